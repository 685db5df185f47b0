import { StrictMode, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import * as api from './api.js';
import { Link, navigate, usePath } from './router.jsx';
import { CallsPage, CallPage, MessagesPage, MessagePage } from './calls.jsx';
import { FlowsPage } from './flows.jsx';
import { FlowCanvasPage } from './canvas.jsx';
import { BoardPage } from './board.jsx';
import '@xyflow/react/dist/style.css';
import './styles.css';

function SignIn({ onDone }) {
  const [error, setError] = useState('');
  const [busy, setBusy] = useState(false);
  const submit = async (e) => {
    e.preventDefault();
    const f = new FormData(e.target);
    setBusy(true); setError('');
    try {
      await api.signIn(f.get('sid').trim(), f.get('token').trim());
      onDone();
    } catch (err) {
      setError(err.message);
    } finally { setBusy(false); }
  };
  return (
    <main className="signin">
      <form id="signin" onSubmit={submit}>
        <h1>Voxgate console</h1>
        <label>Account SID<input name="sid" autoComplete="username" placeholder="AC…" required /></label>
        <label>Auth token<input name="token" type="password" autoComplete="current-password" required /></label>
        {error && <p className="error" role="alert">{error}</p>}
        <button type="submit" disabled={busy}>Sign in</button>
      </form>
    </main>
  );
}

function Nav({ path, hasMessages, onSignOut }) {
  const item = (to, label, match) => (
    <Link to={to} className={match(path) ? 'active' : ''}>{label}</Link>
  );
  return (
    <header className="top">
      <span className="brand">Voxgate</span>
      <nav>
        {item('/console/calls', 'Calls', (p) => p === '/console' || p.startsWith('/console/calls'))}
        {hasMessages && item('/console/messages', 'Messages', (p) => p.startsWith('/console/messages'))}
        {item('/console/flows', 'Studio', (p) => p.startsWith('/console/flows'))}
        {item('/console/board', 'Live board', (p) => p.startsWith('/console/board'))}
      </nav>
      <span className="account" title={api.account()}>{api.account().slice(0, 8)}…</span>
      <button className="link" onClick={onSignOut}>Sign out</button>
    </header>
  );
}

function Page({ path }) {
  const p = path.split('?')[0].replace(/\/+$/, '');
  let m;
  if ((m = p.match(/^\/console\/calls\/(CA[0-9a-f]{32})$/))) return <CallPage sid={m[1]} />;
  if ((m = p.match(/^\/console\/flows\/(FW[0-9a-f]{32})$/))) return <FlowCanvasPage sid={m[1]} />;
  if ((m = p.match(/^\/console\/messages\/((?:SM|MM)[0-9a-f]{32})$/))) return <MessagePage sid={m[1]} />;
  if (p === '/console/flows') return <FlowsPage />;
  if (p === '/console/board') return <BoardPage />;
  if (p === '/console/messages') return <MessagesPage />;
  return <CallsPage />;
}

function App() {
  const path = usePath();
  const [state, setState] = useState('loading');
  const [hasMessages, setHasMessages] = useState(false);
  const check = () => api.session().then(() => setState('in'), () => setState('out'));
  useEffect(() => { check(); }, []);
  useEffect(() => {
    if (state !== 'in') return;
    // Messages appear once the gateway has the Messages API.
    api.rest(api.accountPath('/Messages.json?PageSize=1')).then(() => setHasMessages(true), () => setHasMessages(false));
  }, [state]);
  if (state === 'loading') return <p className="loading">Loading…</p>;
  if (state === 'out') return <SignIn onDone={() => setState('in')} />;
  const signOut = async () => { await api.signOut().catch(() => {}); setState('out'); navigate('/console'); };
  return (
    <>
      <Nav path={path} hasMessages={hasMessages} onSignOut={signOut} />
      <Page path={path} />
    </>
  );
}

createRoot(document.getElementById('root')).render(<StrictMode><App /></StrictMode>);
