import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import {
  ReactFlow, Background, Controls, Handle, Position, MarkerType, applyNodeChanges,
} from '@xyflow/react';
import * as api from './api.js';
import { Link } from './router.jsx';

const flowPath = (sid, rest = '') => `/v2/Flows/${sid}${rest}`;

// defaultProps are the settings a new widget starts with.
const defaultProps = {
  'say-play': { say: 'Hello from Voxgate.', loop: 1 },
  'gather-input-on-call': { say: 'Press a key.', timeout: 5, number_of_digits: 1, finish_on_key: '#', stop_gather: true, gather_language: 'en-US' },
  'split-based-on': { input: '{{widgets.gather.Digits}}' },
  'set-variables': { variables: [{ key: 'greeting', value: 'hello' }] },
  'make-http-request': { method: 'GET', url: 'http://127.0.0.1/', content_type: 'application/x-www-form-urlencoded;charset=utf-8' },
  'enqueue-call': { queue_name: 'support' },
  'connect-call-to': { noun: 'number', to: '+15550000000', timeout: 30 },
  'record-voicemail': { max_length: 60, timeout: 5, finish_on_key: '#', play_beep: 'true', trim: 'trim-silence' },
  'record-call': { record_call: true },
  'add-twiml-redirect': { url: 'http://127.0.0.1/twiml', method: 'POST', timeout: '14400' },
};

// WidgetNode draws one state: its type, name and a source handle per
// transition (labelled by event), problems in red.
function WidgetNode({ data, selected }) {
  const { state, problems, onPath, current } = data;
  const cls = ['widget', `w-${state.type}`];
  if (selected) cls.push('selected');
  if (problems.some((p) => p.severity === 'error')) cls.push('has-error');
  else if (problems.length) cls.push('has-warning');
  if (onPath) cls.push('on-path');
  if (current) cls.push('current');
  return (
    <div className={cls.join(' ')} data-widget={state.name} title={problems.map((p) => p.message).join('\n')}>
      {state.type !== 'trigger' && <Handle type="target" position={Position.Top} />}
      <div className="w-type">{state.type}</div>
      <div className="w-name">{state.name}</div>
      {problems.length > 0 && <div className="w-problems">{problems.length} problem{problems.length > 1 ? 's' : ''}</div>}
      <div className="w-events">
        {(state.transitions || []).map((t, i) => (
          <div key={i} className="w-event">
            <span>{t.event === 'match' && t.conditions && t.conditions[0] ? t.conditions[0].friendly_name || 'match' : t.event}</span>
            <Handle type="source" position={Position.Bottom} id={`t${i}`} style={{ left: `${((i + 1) * 100) / ((state.transitions || []).length + 1)}%` }} />
          </div>
        ))}
      </div>
    </div>
  );
}
const nodeTypes = { widget: WidgetNode };

const clone = (x) => JSON.parse(JSON.stringify(x));

// Panel shows and edits the selected widget.
function WidgetPanel({ def, name, onChange, onRename, onDelete, problems }) {
  const state = def.states.find((s) => s.name === name);
  const [text, setText] = useState('');
  const [newName, setNewName] = useState(name);
  const [err, setErr] = useState('');
  useEffect(() => {
    if (!state) return;
    setText(JSON.stringify({ properties: state.properties, transitions: state.transitions }, null, 2));
    setNewName(state.name); setErr('');
  }, [name, def]);
  if (!state) return null;
  const apply = () => {
    try {
      const v = JSON.parse(text);
      onChange(name, { ...state, properties: v.properties || {}, transitions: v.transitions || [] });
      setErr('');
    } catch (e) { setErr(`Not JSON: ${e.message}`); }
  };
  return (
    <div className="widget-panel" id="widget-panel">
      <h3>{state.type}</h3>
      <label>Name <input value={newName} onChange={(e) => setNewName(e.target.value)} onBlur={() => newName !== name && onRename(name, newName)} /></label>
      <h4>Transitions</h4>
      <table className="transitions"><tbody>
        {(state.transitions || []).map((t, i) => (
          <tr key={i}><td>{t.event}</td><td>
            <select value={t.next || ''} onChange={(e) => {
              const s = clone(state); if (e.target.value) s.transitions[i].next = e.target.value; else delete s.transitions[i].next;
              onChange(name, s);
            }}>
              <option value="">(end)</option>
              {def.states.filter((s) => s.type !== 'trigger').map((s) => <option key={s.name}>{s.name}</option>)}
            </select>
          </td></tr>
        ))}
      </tbody></table>
      <h4>Settings (JSON)</h4>
      <textarea id="widget-settings" value={text} onChange={(e) => setText(e.target.value)} rows={14} spellCheck={false} />
      {err && <p className="error">{err}</p>}
      <div className="row"><button id="apply-widget" onClick={apply}>Apply</button>{state.type !== 'trigger' && <button className="danger" onClick={() => onDelete(name)}>Delete widget</button>}</div>
      {problems.length > 0 && <ul className="problems">{problems.map((p, i) => <li key={i} className={p.severity}>{p.message}</li>)}</ul>}
    </div>
  );
}

function ExecutionPanel({ sid, execution, steps, onStep, stepContext }) {
  if (!execution) return null;
  return (
    <div className="exec-panel" id="exec-panel">
      <h3>Execution <span className="sid">{execution.sid}</span></h3>
      <p>{execution.status} · contact {execution.contact_channel_address} · revision {execution.flow_version}</p>
      <ol className="steps">
        {steps.map((s) => (
          <li key={s.sid}><button className="link" onClick={() => onStep(s)}>{s.transitioned_from} —{s.name}→ {s.transitioned_to}</button></li>
        ))}
      </ol>
      {stepContext && <><h4>Step context</h4><pre className="context">{JSON.stringify(stepContext, null, 2)}</pre></>}
      <h4>Execution context</h4>
      <pre className="context">{JSON.stringify(execution.context, null, 2)}</pre>
    </div>
  );
}

export function FlowCanvasPage({ sid }) {
  const [flow, setFlow] = useState(null);
  const [def, setDef] = useState(null);
  const [revisions, setRevisions] = useState([]);
  const [revision, setRevision] = useState('');
  const [problems, setProblems] = useState([]);
  const [selected, setSelected] = useState(null);
  const [palette, setPalette] = useState({ palette: [], events: {} });
  const [addType, setAddType] = useState('say-play');
  const [message, setMessage] = useState('');
  const [dirty, setDirty] = useState(false);
  const [executions, setExecutions] = useState([]);
  const [execution, setExecution] = useState(null);
  const [steps, setSteps] = useState([]);
  const [stepContext, setStepContext] = useState(null);
  const [nodes, setNodes] = useState([]);
  const [error, setError] = useState('');
  const commitRef = useRef(null);

  const loadFlow = useCallback(async () => {
    try {
      const [f, revs, ex] = await Promise.all([
        api.rest(flowPath(sid)),
        api.rest(flowPath(sid, '/Revisions?PageSize=50')),
        api.rest(flowPath(sid, '/Executions?PageSize=50')),
      ]);
      setFlow(f); setDef(f.definition); setRevision(String(f.revision));
      setRevisions(revs.revisions); setExecutions(ex.executions); setDirty(false);
    } catch (e) { setError(e.message); }
  }, [sid]);
  useEffect(() => { loadFlow(); api.get('/widgets').then(setPalette); }, [loadFlow]);

  // Validate as the flow changes (the same checks as `voxgate flow validate`).
  useEffect(() => {
    if (!def) return;
    const t = setTimeout(() => api.validateFlow(def).then((r) => setProblems(r.problems), () => {}), 250);
    return () => clearTimeout(t);
  }, [def]);

  const path = useMemo(() => {
    const nodes = new Set(); const edges = new Set();
    for (const s of steps) {
      nodes.add(s.transitioned_from); nodes.add(s.transitioned_to);
      edges.add(`${s.transitioned_from}|${s.name}|${s.transitioned_to}`);
    }
    return { nodes, edges, last: steps.length ? steps[steps.length - 1].transitioned_to : null };
  }, [steps]);

  // Nodes follow the definition; React Flow keeps its own copy while dragging.
  useEffect(() => {
    if (!def) return;
    setNodes(() => {
      return def.states.map((s) => ({
        id: s.name, type: 'widget',
        position: { x: (s.properties && s.properties.offset && s.properties.offset.x) || 0, y: (s.properties && s.properties.offset && s.properties.offset.y) || 0 },
        selected: s.name === selected,
        data: { state: s, problems: problems.filter((p) => p.state === s.name), onPath: path.nodes.has(s.name), current: path.last === s.name },
      }));
    });
  }, [def, problems, path, selected]);

  const edges = useMemo(() => {
    if (!def) return [];
    const names = new Set(def.states.map((s) => s.name));
    const out = [];
    for (const s of def.states) {
      (s.transitions || []).forEach((t, i) => {
        if (!t.next || !names.has(t.next)) return;
        const label = t.event === 'match' && t.conditions && t.conditions[0] ? t.conditions[0].friendly_name || 'match' : t.event;
        const hot = path.edges.has(`${s.name}|${t.event}|${t.next}`);
        out.push({
          id: `${s.name}:t${i}`, source: s.name, sourceHandle: `t${i}`, target: t.next, label,
          markerEnd: { type: MarkerType.ArrowClosed }, className: hot ? 'edge-on-path' : '', animated: hot,
          data: { event: t.event },
        });
      });
    }
    return out;
  }, [def, path]);

  const update = (fn) => { setDef((d) => { const n = clone(d); fn(n); return n; }); setDirty(true); };

  const onNodesChange = (changes) => {
    for (const c of changes) if (c.type === 'select' && c.selected) setSelected(c.id);
    setNodes((ns) => applyNodeChanges(changes, ns));
  };
  const onNodeDragStop = (_, node) => update((d) => {
    const s = d.states.find((x) => x.name === node.id);
    if (!s) return;
    s.properties = s.properties || {};
    s.properties.offset = { x: Math.round(node.position.x), y: Math.round(node.position.y) };
  });
  const onConnect = ({ source, sourceHandle, target }) => update((d) => {
    const s = d.states.find((x) => x.name === source);
    const i = Number(String(sourceHandle).slice(1));
    if (s && s.transitions[i]) s.transitions[i].next = target;
  });
  const onEdgesDelete = (gone) => update((d) => {
    for (const e of gone) {
      const s = d.states.find((x) => x.name === e.source);
      const i = Number(String(e.sourceHandle).slice(1));
      if (s && s.transitions[i]) delete s.transitions[i].next;
    }
  });
  const addWidget = () => {
    let n = 1;
    const base = addType.replace(/-/g, '_');
    while (def.states.some((s) => s.name === `${base}_${n}`)) n++;
    const name = `${base}_${n}`;
    const maxY = Math.max(0, ...def.states.map((s) => (s.properties && s.properties.offset ? s.properties.offset.y : 0)));
    update((d) => d.states.push({
      name, type: addType,
      transitions: (palette.events[addType] || []).filter((e) => e !== 'match').map((event) => ({ event })),
      properties: { ...(defaultProps[addType] || {}), offset: { x: 0, y: maxY + 220 } },
    }));
    setSelected(name);
  };
  const changeState = (name, s) => update((d) => { d.states[d.states.findIndex((x) => x.name === name)] = s; });
  const rename = (from, to) => {
    if (!to || def.states.some((s) => s.name === to)) { setMessage(`Cannot rename to "${to}"`); return; }
    update((d) => {
      for (const s of d.states) {
        if (s.name === from) s.name = to;
        for (const t of s.transitions || []) if (t.next === from) t.next = to;
      }
      if (d.initial_state === from) d.initial_state = to;
    });
    setSelected(to);
  };
  const remove = (name) => {
    update((d) => {
      d.states = d.states.filter((s) => s.name !== name);
      for (const s of d.states) for (const t of s.transitions || []) if (t.next === name) delete t.next;
    });
    setSelected(null);
  };

  const save = async (status) => {
    setMessage('');
    try {
      const f = await api.restForm('POST', flowPath(sid), {
        Status: status, Definition: JSON.stringify(def), CommitMessage: commitRef.current.value || `${status} from the console`,
      });
      setMessage(`Saved revision ${f.revision} (${f.status})`);
      commitRef.current.value = '';
      await loadFlow();
    } catch (e) {
      const details = e.body && e.body.details && e.body.details.errors ? `: ${e.body.details.errors.map((x) => x.message).join('; ')}` : '';
      setMessage(`Not saved: ${e.message}${details}`);
    }
  };
  const showRevision = async (r) => {
    setRevision(r);
    const rev = await api.rest(flowPath(sid, `/Revisions/${r}`));
    setDef(rev.definition); setDirty(false);
  };
  const showExecution = async (fn) => {
    setStepContext(null);
    if (!fn) { setExecution(null); setSteps([]); return; }
    const [ex, st] = await Promise.all([api.rest(flowPath(sid, `/Executions/${fn}`)), api.rest(flowPath(sid, `/Executions/${fn}/Steps?PageSize=100`))]);
    setExecution(ex);
    setSteps([...st.steps].sort((a, b) => (a.date_created < b.date_created ? -1 : a.date_created > b.date_created ? 1 : 0)));
  };
  const showStep = async (s) => {
    const c = await api.rest(flowPath(sid, `/Executions/${s.execution_sid}/Steps/${s.sid}/Context`));
    setStepContext(c.context);
  };

  if (error) return <main><p className="error">{error}</p></main>;
  if (!flow || !def) return <main><p>Loading…</p></main>;
  const flowProblems = problems.filter((p) => !p.state);
  const errors = problems.filter((p) => p.severity === 'error').length;
  return (
    <main className="studio">
      <div className="studio-bar">
        <Link to="/console/flows">← Flows</Link>
        <h1>{flow.friendly_name}</h1>
        <label>Revision <select id="revision" value={revision} onChange={(e) => showRevision(e.target.value)}>
          {revisions.map((r) => <option key={r.revision} value={r.revision}>{r.revision} · {r.status}{r.commit_message ? ` · ${r.commit_message}` : ''}</option>)}
        </select></label>
        <label>Execution <select id="execution" value={execution ? execution.sid : ''} onChange={(e) => showExecution(e.target.value)}>
          <option value="">(none)</option>
          {executions.map((x) => <option key={x.sid} value={x.sid}>{x.contact_channel_address} · {x.status} · {new Date(x.date_created).toLocaleTimeString()}</option>)}
        </select></label>
        <span id="validity" className={errors ? 'bad' : 'ok'}>{errors ? `${errors} error${errors > 1 ? 's' : ''}` : 'valid'}{problems.length - errors ? `, ${problems.length - errors} warning(s)` : ''}</span>
      </div>
      <div className="studio-tools">
        <select id="add-type" value={addType} onChange={(e) => setAddType(e.target.value)}>
          {palette.palette.map((t) => <option key={t}>{t}</option>)}
        </select>
        <button id="add-widget" onClick={addWidget}>Add widget</button>
        <input ref={commitRef} id="commit-message" placeholder="Commit message" />
        <button id="save-draft" onClick={() => save('draft')}>Save draft</button>
        <button id="publish" className="primary" onClick={() => save('published')}>Publish</button>
        {dirty && <span className="muted">unsaved changes</span>}
        {message && <span id="save-message" className="muted">{message}</span>}
      </div>
      <div className="studio-body">
        <div className="canvas" id="canvas">
          <ReactFlow
            nodes={nodes} edges={edges} nodeTypes={nodeTypes}
            onNodesChange={onNodesChange} onNodeDragStop={onNodeDragStop}
            onConnect={onConnect} onEdgesDelete={onEdgesDelete}
            onNodeClick={(_, n) => setSelected(n.id)} onPaneClick={() => setSelected(null)}
            fitView minZoom={0.2} deleteKeyCode={['Delete']}
          >
            <Background gap={20} />
            <Controls showInteractive={false} />
          </ReactFlow>
        </div>
        <aside className="side">
          {selected ? (
            <WidgetPanel def={def} name={selected} onChange={changeState} onRename={rename} onDelete={remove}
              problems={problems.filter((p) => p.state === selected)} />
          ) : <p className="muted">Select a widget to see its settings. Drag from an event at a widget's bottom to another widget to connect them.</p>}
          {flowProblems.length > 0 && <ul className="problems">{flowProblems.map((p, i) => <li key={i} className={p.severity}>{p.message}</li>)}</ul>}
          <ExecutionPanel sid={sid} execution={execution} steps={steps} onStep={showStep} stepContext={stepContext} />
        </aside>
      </div>
    </main>
  );
}
