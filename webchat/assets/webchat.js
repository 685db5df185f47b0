// The visitor's side of web chat: start a conversation, post messages,
// long-poll for the agent's replies. No build step, no dependencies.
'use strict';
(function () {
  const $ = (id) => document.getElementById(id);
  const api = location.pathname.replace(/\/$/, '') + '/api/conversations';
  let conv = null;
  let next = 0;

  function show(m) {
    const li = document.createElement('li');
    li.className = 'msg ' + (m.author === 'visitor' ? 'mine' : m.author === 'system' ? 'system' : 'agent');
    li.dataset.author = m.author;
    const who = m.author === 'visitor' ? 'You' : m.author === 'system' ? '' : m.author + ': ';
    li.textContent = who + (who === 'You' ? ': ' : '') + m.body;
    $('messages').appendChild(li);
  }

  async function poll() {
    while (conv) {
      try {
        const r = await fetch(api + '/' + conv.sid + '/messages?after=' + next, { headers: { 'X-Chat-Token': conv.token } });
        if (!r.ok) throw new Error('HTTP ' + r.status);
        const data = await r.json();
        for (const m of data.messages) { show(m); next = m.index + 1; }
        if (data.closed) {
          $('status').textContent = 'The conversation has ended.';
          $('sendBtn').disabled = true;
          return;
        }
      } catch (e) {
        $('status').textContent = 'Reconnecting…';
        await new Promise((res) => setTimeout(res, 2000));
      }
    }
  }

  $('start').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    $('startBtn').disabled = true;
    const r = await fetch(api, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ name: $('name').value }) });
    if (!r.ok) { $('startBtn').disabled = false; alert('Chat is not available right now.'); return; }
    conv = await r.json();
    $('start').hidden = true;
    $('chat').hidden = false;
    document.body.dataset.conversation = conv.sid;
    poll();
  });

  $('send').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = $('body').value;
    if (!body || !conv) return;
    const r = await fetch(api + '/' + conv.sid + '/messages', {
      method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Chat-Token': conv.token }, body: JSON.stringify({ body }),
    });
    if (r.ok) $('body').value = '';
  });
})();
