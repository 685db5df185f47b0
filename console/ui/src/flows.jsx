import { useEffect, useState } from 'react';
import * as api from './api.js';
import { Link, navigate } from './router.jsx';

const emptyFlow = {
  description: 'A new flow',
  states: [{
    name: 'Trigger', type: 'trigger', properties: { offset: { x: 0, y: 0 } },
    transitions: ['incomingMessage', 'incomingCall', 'incomingConversationMessage', 'incomingRequest', 'incomingParent'].map((event) => ({ event })),
  }],
  initial_state: 'Trigger',
  flags: { allow_concurrent_calls: true },
};

export function FlowsPage() {
  const [flows, setFlows] = useState(null);
  const [error, setError] = useState('');
  useEffect(() => { api.rest('/v2/Flows?PageSize=50').then((d) => setFlows(d.flows), (e) => setError(e.message)); }, []);
  const create = async (e) => {
    e.preventDefault();
    const name = new FormData(e.target).get('name');
    try {
      const f = await api.restForm('POST', '/v2/Flows', { FriendlyName: name, Status: 'draft', Definition: JSON.stringify(emptyFlow), CommitMessage: 'created in the console' });
      navigate(`/console/flows/${f.sid}`);
    } catch (err) { setError(err.message); }
  };
  return (
    <main>
      <h1>Studio flows</h1>
      <form className="filters" onSubmit={create}>
        <label>New flow<input name="name" placeholder="Name" required /></label>
        <button type="submit">Create</button>
      </form>
      {error && <p className="error">{error}</p>}
      <div className="table-wrap"><table>
        <thead><tr><th>Flow</th><th>Name</th><th>Status</th><th>Revision</th><th>Valid</th><th>Updated</th></tr></thead>
        <tbody>
          {(flows || []).map((f) => (
            <tr key={f.sid}>
              <td data-label="Flow"><Link to={`/console/flows/${f.sid}`} className="sid">{f.sid}</Link></td>
              <td data-label="Name">{f.friendly_name}</td><td data-label="Status">{f.status}</td>
              <td data-label="Revision">{f.revision}</td><td data-label="Valid">{f.valid ? 'yes' : 'no'}</td>
              <td data-label="Updated">{new Date(f.date_updated).toLocaleString()}</td>
            </tr>
          ))}
          {flows && flows.length === 0 && <tr><td colSpan={6}>No flows yet.</td></tr>}
        </tbody>
      </table></div>
    </main>
  );
}
