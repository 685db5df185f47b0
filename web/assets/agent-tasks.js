// Voxgate agent desktop: TaskRouter reservations on every channel, the
// conversations of chat and SMS tasks (the contact writes as "visitor" on
// web chat, "contact" on SMS), wrap-up and complete. Draws the "desk" messages the
// gateway sends (see package web, doc.go) and sends "task" requests.
'use strict';

(() => {
  const $ = (id) => document.getElementById(id);
  const agent = window.voxgateAgent;
  const drafts = {}; // reservation SID → unsent reply text

  function el(tag, attrs, ...children) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (k === 'dataset') Object.assign(e.dataset, v);
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
      else e.setAttribute(k, v);
    }
    for (const c of children) e.append(c);
    return e;
  }

  // Reservations this page has asked to accept: their call may be offered
  // before the desktop's next update says "accepted".
  const acceptedHere = new Set();

  function act(action, reservationSid, extra) {
    if (action === 'accept') acceptedHere.add(reservationSid);
    agent.send({ type: 'task', action, reservationSid, ...(extra || {}) });
  }

  function button(label, cls, action, res) {
    return el('button', { type: 'button', class: cls, dataset: { action, reservation: res } , onclick: () => act(action, res) }, label);
  }

  function attributes(attrs) {
    const dl = el('dl', { class: 'attrs' });
    for (const [k, v] of Object.entries(attrs || {})) {
      dl.append(el('dt', {}, k), el('dd', {}, typeof v === 'object' ? JSON.stringify(v) : String(v)));
    }
    return dl;
  }

  function conversation(t) {
    const c = t.conversation;
    const list = el('ol', { class: 'messages' });
    for (const m of c.messages) {
      list.append(el('li', { class: 'msg ' + (m.author === 'visitor' || m.author === 'contact' ? 'visitor' : m.author === 'system' ? 'system' : 'agent'), dataset: { author: m.author } },
        (m.author === 'system' ? '' : m.author + ': ') + m.body));
    }
    const box = el('div', { class: 'conversation', dataset: { conversation: c.sid } }, list);
    if (!c.closed && t.reservationStatus === 'accepted') {
      const input = el('input', { 'aria-label': 'Reply', class: 'reply', maxlength: '4096' });
      input.value = drafts[t.reservationSid] || '';
      input.addEventListener('input', () => { drafts[t.reservationSid] = input.value; });
      const form = el('form', { class: 'reply-form' }, input, el('button', { type: 'submit' }, 'Send'));
      form.addEventListener('submit', (e) => {
        e.preventDefault();
        if (!input.value) return;
        act('say', t.reservationSid, { body: input.value });
        drafts[t.reservationSid] = '';
        input.value = '';
      });
      box.append(form);
    }
    return box;
  }

  function card(t) {
    const who = t.attributes.name || t.attributes.from || t.taskSid;
    const actions = el('div', { class: 'actions' });
    if (t.reservationStatus === 'pending') {
      actions.append(button('Accept', 'go', 'accept', t.reservationSid), button('Reject', 'stop', 'reject', t.reservationSid));
    } else if (t.reservationStatus === 'accepted') {
      actions.append(button('Wrap up', '', 'wrap', t.reservationSid), button('Complete', 'stop', 'complete', t.reservationSid));
    } else if (t.reservationStatus === 'wrapping') {
      actions.append(button('Complete', 'stop', 'complete', t.reservationSid));
    }
    const art = el('article', { class: 'task ' + t.channel, dataset: { task: t.taskSid, reservation: t.reservationSid, channel: t.channel, status: t.reservationStatus } },
      el('h3', {}, `${t.channel}: ${who}`),
      el('p', {}, `${t.reservationStatus} · queue ${t.queue || '—'} · priority ${t.priority} · ${t.age} s old`),
      attributes(t.attributes), actions);
    if (t.conversation) art.append(conversation(t));
    return art;
  }

  function render(desk) {
    $('tasks').hidden = false;
    const sel = $('activity');
    if (sel.options.length !== desk.activities.length) {
      sel.replaceChildren(...desk.activities.map((a) => el('option', { value: a }, a)));
    }
    sel.value = desk.activity;
    const focused = document.activeElement && document.activeElement.classList.contains('reply')
      ? document.activeElement.closest('[data-reservation]').dataset.reservation : null;
    $('task-list').replaceChildren(...(desk.tasks.length ? desk.tasks.map(card) : [el('p', {}, 'No tasks.')]));
    if (focused) {
      const again = document.querySelector(`[data-reservation="${focused}"] .reply`);
      if (again) again.focus();
    }
  }

  // expectsCall reports whether an incoming call offer delivers a voice
  // task the agent accepted (the gateway names it in X-Voxgate-Task).
  function expectsCall(offer) {
    const taskSid = offer && offer.attributes && offer.attributes['X-Voxgate-Task'];
    const desk = agent.desk;
    return Boolean(taskSid && desk && desk.tasks.some((t) => t.taskSid === taskSid && t.channel === 'voice' &&
      (t.reservationStatus === 'accepted' || (t.reservationStatus === 'pending' && acceptedHere.has(t.reservationSid)))));
  }

  $('activity').addEventListener('change', (e) => act('activity', undefined, { activity: e.target.value }));
  window.voxgateDesk = { render, expectsCall };
  if (agent.desk) render(agent.desk);
})();
