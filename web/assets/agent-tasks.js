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
    renderCalls(desk);
    if (focused) {
      const again = document.querySelector(`[data-reservation="${focused}"] .reply`);
      if (again) again.focus();
    }
  }

  // ---- call controls (the task's call is a conference room) ----------

  const targets = {};         // task SID → the transfer/consult field's text
  const supervising = new Set(); // task SIDs this page asked to monitor, coach or barge

  function callAct(action, taskSid, target) {
    if (['monitor', 'coach', 'barge'].includes(action)) supervising.add(taskSid);
    agent.send({ type: 'task', action, taskSid, target: target || '' });
  }

  function callButton(label, action, taskSid, target, cls) {
    return el('button', { type: 'button', class: cls || '', dataset: { callAction: action }, onclick: () => callAct(action, taskSid, target) }, label);
  }

  function parties(c, me, kick) {
    const ul = el('ul', { class: 'parties' });
    for (const p of c.parties) {
      const flags = [p.role, p.hold ? 'on hold' : '', p.muted ? 'muted' : '', p.coaching ? `coaching ${p.coachLabel || ''}` : ''].filter(Boolean).join(', ');
      const li = el('li', { dataset: { label: p.label, role: p.role, muted: String(p.muted), hold: String(p.hold), coaching: String(p.coaching) } },
        `${p.label === 'customer' ? (c.from || 'caller') : p.label} (${flags})`);
      if (kick && p.role !== 'customer' && p.role !== 'supervisor' && p.label !== me) li.append(' ', callButton('Remove', 'kick', c.taskSid, p.label, 'stop'));
      ul.append(li);
    }
    if (c.transferring) ul.append(el('li', { class: 'ringing' }, `${c.transferring} on the way…`));
    return ul;
  }

  // myCall is a call the agent is on: hold the caller, mute yourself,
  // transfer (cold) or consult (warm: the second party joins, then you
  // leave) an agent (agent:ID), a queue (queue:NAME) or a number.
  function myCall(c) {
    const me = agent.agent && agent.agent.id;
    const mine = c.parties.find((p) => p.label === me) || {};
    const customer = c.parties.find((p) => p.role === 'customer') || {};
    const input = el('input', { class: 'target', 'aria-label': 'Transfer or consult to', placeholder: 'agent:bob, queue:sales or +15551230000' });
    input.value = targets[c.taskSid] || '';
    input.addEventListener('input', () => { targets[c.taskSid] = input.value; });
    const go = (action) => () => callAct(action, c.taskSid, input.value.trim());
    return el('article', { class: 'callctl', dataset: { task: c.taskSid, conference: c.conferenceSid } },
      el('h3', {}, `Call with ${c.from || 'caller'}`),
      parties(c, me, true),
      el('div', { class: 'actions' },
        customer.hold ? callButton('Resume caller', 'unhold', c.taskSid) : callButton('Hold caller', 'hold', c.taskSid),
        mine.muted ? callButton('Unmute me', 'unmute', c.taskSid) : callButton('Mute me', 'mute', c.taskSid),
        callButton('Leave call', 'leave', c.taskSid, '', 'stop')),
      el('div', { class: 'actions transfer' }, input,
        el('button', { type: 'button', dataset: { callAction: 'transfer' }, onclick: go('transfer') }, 'Transfer'),
        el('button', { type: 'button', dataset: { callAction: 'consult' }, onclick: go('consult') }, 'Consult')));
  }

  // liveCall is any agent's call, for a supervisor.
  function liveCall(c) {
    const me = agent.agent && agent.agent.id;
    const sup = c.parties.find((p) => p.label === `supervisor:${me}`);
    const mode = !sup ? 'none' : sup.coaching ? 'coach' : sup.muted ? 'monitor' : 'barge';
    const agents = c.parties.filter((p) => p.role === 'agent').map((p) => p.label).join(', ') || '—';
    const buttons = el('div', { class: 'actions' },
      callButton('Monitor', 'monitor', c.taskSid), callButton('Coach', 'coach', c.taskSid), callButton('Barge', 'barge', c.taskSid));
    if (sup) buttons.append(callButton('Stop', 'unmonitor', c.taskSid, '', 'stop'));
    return el('article', { class: 'livecall', dataset: { task: c.taskSid, mode } },
      el('h3', {}, `${agents} with ${c.from || 'caller'}`), parties(c, me, false), buttons);
  }

  function renderCalls(desk) {
    const calls = desk.calls || [];
    $('calls').hidden = calls.length === 0;
    const focused = document.activeElement && document.activeElement.classList.contains('target')
      ? document.activeElement.closest('[data-task]').dataset.task : null;
    $('call-list').replaceChildren(...calls.map(myCall));
    if (focused) {
      const again = document.querySelector(`.callctl[data-task="${focused}"] .target`);
      if (again) again.focus();
    }
    $('supervise').hidden = !desk.supervisor;
    const live = desk.liveCalls || [];
    $('live-list').replaceChildren(...(live.length ? live.map(liveCall) : [el('p', {}, 'No live calls.')]));
  }

  // expectsCall reports whether an incoming call offer delivers a voice
  // task the agent accepted (the gateway names it in X-Voxgate-Task).
  function expectsCall(offer) {
    const taskSid = offer && offer.attributes && offer.attributes['X-Voxgate-Task'];
    if (taskSid && supervising.has(taskSid)) return true; // the call this supervisor asked to join
    const desk = agent.desk;
    return Boolean(taskSid && desk && desk.tasks.some((t) => t.taskSid === taskSid && t.channel === 'voice' &&
      (t.reservationStatus === 'accepted' || (t.reservationStatus === 'pending' && acceptedHere.has(t.reservationSid)))));
  }

  $('activity').addEventListener('change', (e) => act('activity', undefined, { activity: e.target.value }));
  window.voxgateDesk = { render, expectsCall };
  if (agent.desk) render(agent.desk);
})();
