import { useEffect, useState } from 'react';
import * as api from './api.js';
import { Link } from './router.jsx';

export const fmtTime = (s) => (s ? new Date(s).toLocaleString() : '—');
const statusClass = (s) => `status status-${s}`;

// ResourceList is a filtered, paged list of a REST API resource (calls,
// messages…): filters become the API's query parameters, paging follows
// next_page_uri.
export function ResourceList({ resource }) {
  const [filters, setFilters] = useState({});
  const [pageUri, setPageUri] = useState(null);
  const [history, setHistory] = useState([]);
  const [data, setData] = useState(null);
  const [error, setError] = useState('');
  const first = () => {
    const q = new URLSearchParams({ PageSize: '20' });
    for (const [k, v] of Object.entries(filters)) if (v) q.set(k, v);
    return api.accountPath(`/${resource.path}.json?${q}`);
  };
  const uri = pageUri || first();
  useEffect(() => {
    let stop = false;
    const load = () => api.rest(uri).then((d) => { if (!stop) { setData(d); setError(''); } }, (e) => !stop && setError(e.message));
    load();
    const t = setInterval(load, 5000); // live: the list follows new and ending calls
    return () => { stop = true; clearInterval(t); };
  }, [uri]);
  const apply = (e) => {
    e.preventDefault();
    const f = Object.fromEntries(new FormData(e.target));
    setFilters(f); setPageUri(null); setHistory([]);
  };
  const rows = data ? data[resource.key] || [] : [];
  return (
    <section className="list">
      <form className="filters" onSubmit={apply}>
        {resource.filters.map((f) => f.options ? (
          <label key={f.name}>{f.label}
            <select name={f.name} defaultValue="">
              <option value="">any</option>
              {f.options.map((o) => <option key={o}>{o}</option>)}
            </select>
          </label>
        ) : (
          <label key={f.name}>{f.label}<input name={f.name} type={f.type || 'text'} placeholder={f.placeholder} /></label>
        ))}
        <button type="submit">Filter</button>
      </form>
      {error && <p className="error">{error}</p>}
      <div className="table-wrap">
        <table>
          <thead><tr>{resource.columns.map((c) => <th key={c.label}>{c.label}</th>)}</tr></thead>
          <tbody>
            {rows.map((r) => (
              <tr key={r.sid}>{resource.columns.map((c) => <td key={c.label} data-label={c.label}>{c.cell(r)}</td>)}</tr>
            ))}
            {data && rows.length === 0 && <tr><td colSpan={resource.columns.length}>Nothing matches.</td></tr>}
          </tbody>
        </table>
      </div>
      <div className="pager">
        <button disabled={history.length === 0} onClick={() => { const h = [...history]; const prev = h.pop(); setHistory(h); setPageUri(prev); }}>← Newer</button>
        <button disabled={!data || !data.next_page_uri} onClick={() => { setHistory([...history, uri]); setPageUri(data.next_page_uri); }}>Older →</button>
      </div>
    </section>
  );
}

const callStatuses = ['queued', 'ringing', 'in-progress', 'completed', 'busy', 'failed', 'no-answer', 'canceled'];

const callsResource = {
  title: 'Calls', path: 'Calls', key: 'calls',
  filters: [
    { name: 'Status', label: 'Status', options: callStatuses },
    { name: 'To', label: 'To', placeholder: '+1555…' },
    { name: 'From', label: 'From', placeholder: '+1555…' },
    { name: 'StartTime>=', label: 'Started on or after', type: 'date' },
  ],
  columns: [
    { label: 'Call', cell: (c) => <Link to={`/console/calls/${c.sid}`} className="sid">{c.sid}</Link> },
    { label: 'Status', cell: (c) => <span className={statusClass(c.status)}>{c.status}</span> },
    { label: 'Direction', cell: (c) => c.direction },
    { label: 'From', cell: (c) => c.from },
    { label: 'To', cell: (c) => c.to },
    { label: 'Started', cell: (c) => fmtTime(c.start_time || c.date_created) },
    { label: 'Duration', cell: (c) => (c.duration ? `${c.duration} s` : '—') },
  ],
};

// messagesResource is the same list for the Messages API, shown once the
// gateway has it.
const messagesResource = {
  title: 'Messages', path: 'Messages', key: 'messages',
  filters: [
    { name: 'To', label: 'To', placeholder: '+1555…' },
    { name: 'From', label: 'From', placeholder: '+1555…' },
    { name: 'DateSent>=', label: 'Sent on or after', type: 'date' },
  ],
  columns: [
    { label: 'Message', cell: (m) => <Link to={`/console/messages/${m.sid}`} className="sid">{m.sid}</Link> },
    { label: 'Status', cell: (m) => <span className={statusClass(m.status)}>{m.status}</span> },
    { label: 'Direction', cell: (m) => m.direction },
    { label: 'From', cell: (m) => m.from },
    { label: 'To', cell: (m) => m.to },
    { label: 'Body', cell: (m) => m.body },
    { label: 'Sent', cell: (m) => fmtTime(m.date_sent || m.date_created) },
    { label: 'Error', cell: (m) => (m.error_code ? `${m.error_code} ${m.error_message || ''}` : '') },
    { label: 'Segments', cell: (m) => m.num_segments },
  ],
};

export const CallsPage = () => (<main><h1>Calls</h1><ResourceList resource={callsResource} /></main>);
export const MessagesPage = () => (<main><h1>Messages</h1><ResourceList resource={messagesResource} /></main>);

function TimelineEvent({ e }) {
  const d = e.detail || {};
  const [open, setOpen] = useState(false);
  let title;
  if (e.kind === 'status') title = <>Status <span className={statusClass(d.status)}>{d.status}</span></>;
  else if (e.kind === 'webhook') title = <>{d.method} <span className="url">{d.url}</span> → {d.status_code ? <b className={d.status_code < 400 ? 'ok' : 'bad'}>{d.status_code}</b> : <b className="bad">{d.error || 'no response'}</b>} <span className="muted">{d.duration_ms} ms</span></>;
  else title = <><b className={e.kind === 'error' ? 'bad' : 'warn'}>{e.kind} {e.code}</b> {e.meaning}: {d.message}{d.error ? ` — ${d.error}` : ''}{d.warning ? ` — ${d.warning}` : ''}</>;
  const more = e.kind === 'webhook' && (d.response || d.request);
  return (
    <li className={`ev ev-${e.kind}`}>
      <time>{new Date(e.at).toLocaleTimeString(undefined, { hour12: false, hour: '2-digit', minute: '2-digit', second: '2-digit', fractionalSecondDigits: 3 })}</time>
      <div>
        <div className="ev-title">{title} {more && <button className="link" onClick={() => setOpen(!open)}>{open ? 'hide' : 'show'} exchange</button>}</div>
        {e.code > 0 && <a className="muted" href={`https://www.twilio.com/docs/errors/${e.code}`} target="_blank" rel="noreferrer">Twilio error {e.code}</a>}
        {open && (<div className="exchange">
          <h4>Request parameters</h4><pre>{(d.request || '').split('&').map((kv) => decodeURIComponent(kv.replace(/\+/g, ' '))).join('\n')}</pre>
          <h4>Response ({d.content_type || 'no type'})</h4><pre className="twiml">{d.response}</pre>
        </div>)}
      </div>
    </li>
  );
}

export function CallPage({ sid }) {
  const [call, setCall] = useState(null);
  const [events, setEvents] = useState([]);
  const [recs, setRecs] = useState([]);
  const [children, setChildren] = useState([]);
  const [error, setError] = useState('');
  useEffect(() => {
    let stop = false;
    const load = async () => {
      try {
        const [c, ev, r, ch] = await Promise.all([
          api.rest(api.accountPath(`/Calls/${sid}.json`)),
          api.get(`/calls/${sid}/events`),
          api.rest(api.accountPath(`/Calls/${sid}/Recordings.json`)),
          api.rest(api.accountPath(`/Calls.json?ParentCallSid=${sid}`)),
        ]);
        if (stop) return;
        setCall(c); setEvents(ev.events); setRecs(r.recordings); setChildren(ch.calls);
      } catch (e) { if (!stop) setError(e.message); }
    };
    load();
    const t = setInterval(load, 3000);
    return () => { stop = true; clearInterval(t); };
  }, [sid]);
  if (error) return <main><p className="error">{error}</p></main>;
  if (!call) return <main><p>Loading…</p></main>;
  return (
    <main className="call">
      <p><Link to="/console/calls">← Calls</Link></p>
      <h1>Call <span className="sid">{sid}</span></h1>
      <dl className="facts">
        <dt>Status</dt><dd><span className={statusClass(call.status)}>{call.status}</span></dd>
        <dt>From</dt><dd>{call.from}</dd><dt>To</dt><dd>{call.to}</dd>
        <dt>Direction</dt><dd>{call.direction}</dd>
        <dt>Started</dt><dd>{fmtTime(call.start_time)}</dd><dt>Ended</dt><dd>{fmtTime(call.end_time)}</dd>
        <dt>Duration</dt><dd>{call.duration || 0} s</dd>
        {call.parent_call_sid && <><dt>Parent</dt><dd><Link to={`/console/calls/${call.parent_call_sid}`} className="sid">{call.parent_call_sid}</Link></dd></>}
      </dl>
      <div className="columns">
        <section>
          <h2>Timeline</h2>
          {events.length === 0 ? <p className="muted">No events recorded for this call.</p> : (
            <ol className="timeline" id="timeline">{events.map((e, i) => <TimelineEvent key={i} e={e} />)}</ol>
          )}
        </section>
        <aside>
          <h2>Recordings</h2>
          {recs.length === 0 && <p className="muted">None.</p>}
          <ul className="recordings">
            {recs.map((r) => {
              const src = api.restPath(api.accountPath(`/Recordings/${r.sid}.wav`));
              return (
                <li key={r.sid} data-sid={r.sid}>
                  <div><span className="sid">{r.sid}</span> · {r.duration} s · {r.channels === 2 ? 'dual' : 'mono'} · {r.status}</div>
                  <audio controls preload="metadata" src={src} />
                  <a href={src} download={`${r.sid}.wav`}>Download WAV</a>
                </li>
              );
            })}
          </ul>
          <h2>Child calls</h2>
          {children.length === 0 && <p className="muted">None.</p>}
          <ul>{children.map((c) => <li key={c.sid}><Link to={`/console/calls/${c.sid}`} className="sid">{c.sid}</Link> {c.to} <span className={statusClass(c.status)}>{c.status}</span></li>)}</ul>
        </aside>
      </div>
    </main>
  );
}

// MessagePage shows one message: its facts, body and error with Twilio's
// code and the link to its meaning.
export function MessagePage({ sid }) {
  const [m, setM] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stop = false;
    const load = () => api.rest(api.accountPath(`/Messages/${sid}.json`)).then((x) => !stop && setM(x), (e) => !stop && setError(e.message));
    load();
    const t = setInterval(load, 3000);
    return () => { stop = true; clearInterval(t); };
  }, [sid]);
  if (error) return <main><p className="error">{error}</p></main>;
  if (!m) return <main><p>Loading…</p></main>;
  return (
    <main className="message">
      <p><Link to="/console/messages">← Messages</Link></p>
      <h1>Message <span className="sid">{sid}</span></h1>
      <dl className="facts">
        <dt>Status</dt><dd><span className={statusClass(m.status)}>{m.status}</span></dd>
        <dt>Direction</dt><dd>{m.direction}</dd>
        <dt>From</dt><dd>{m.from}</dd><dt>To</dt><dd>{m.to}</dd>
        <dt>Created</dt><dd>{fmtTime(m.date_created)}</dd><dt>Sent</dt><dd>{fmtTime(m.date_sent)}</dd>
        <dt>Segments</dt><dd>{m.num_segments}</dd><dt>Media</dt><dd>{m.num_media}</dd>
        {m.error_code && <><dt>Error</dt><dd><b className="bad">{m.error_code}</b> {m.error_message} <a href={`https://www.twilio.com/docs/errors/${m.error_code}`} target="_blank" rel="noreferrer">Twilio error {m.error_code}</a></dd></>}
      </dl>
      <h2>Body</h2>
      <pre className="body" id="message-body">{m.body}</pre>
    </main>
  );
}
