import { useEffect, useState } from 'react';
import * as api from './api.js';
import { Link } from './router.jsx';

const secs = (s) => (s >= 60 ? `${Math.floor(s / 60)} min ${s % 60} s` : `${s} s`);

// BoardPage shows queues and agents, polled every 2 seconds.
export function BoardPage() {
  const [board, setBoard] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => {
    let stop = false;
    const load = () => api.get('/board').then((b) => { if (!stop) { setBoard(b); setError(''); } }, (e) => !stop && setError(e.message));
    load();
    const t = setInterval(load, 2000);
    return () => { stop = true; clearInterval(t); };
  }, []);
  return (
    <main>
      <h1>Live board</h1>
      {error && <p className="error">{error}</p>}
      {board && (
        <>
          <h2>Queues</h2>
          <div className="cards" id="queues">
            {board.queues.length === 0 && <p className="muted">No queues yet.</p>}
            {board.queues.map((q) => (
              <div className="card" key={q.sid || q.name} data-queue={q.name}>
                <h3>{q.name}</h3>
                <div className="big">{q.waiting}<small> waiting</small></div>
                <div>Longest wait {secs(q.longest_wait)} · average {secs(q.average_wait)}</div>
                <div>Service level {q.service_level == null ? '—' : `${Math.round(q.service_level * 100)} %`} <small>(answered within {q.service_level_threshold} s, today: {q.answered_today} of {q.left_today})</small></div>
              </div>
            ))}
          </div>
          <h2>Agents</h2>
          <div className="table-wrap"><table id="agents">
            <thead><tr><th>Agent</th><th>Activity</th><th>Current task</th><th>Queues</th></tr></thead>
            <tbody>
              {board.agents.length === 0 && <tr><td colSpan={4}>No agent signed in.</td></tr>}
              {board.agents.map((a) => (
                <tr key={a.id}>
                  <td data-label="Agent">{a.name || a.id}</td>
                  <td data-label="Activity"><span className={`activity activity-${a.activity}`}>{a.activity}</span></td>
                  <td data-label="Current task">{a.call_sid ? <><Link to={`/console/calls/${a.call_sid}`} className="sid">{a.call_sid}</Link> {a.from} {a.queue && `(${a.queue})`}</> : '—'}</td>
                  <td data-label="Queues">{(a.queues || []).join(', ')}</td>
                </tr>
              ))}
            </tbody>
          </table></div>
          <p className="muted">Updated {new Date(board.at).toLocaleTimeString()}</p>
        </>
      )}
    </main>
  );
}
