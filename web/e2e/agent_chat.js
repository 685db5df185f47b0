// Plays both sides of a web chat in headless Chromium: a visitor on the
// gateway's /webchat widget and an agent on the /agent desktop. The agent
// goes Available, accepts the chat reservation, reads the visitor's
// message, replies, and completes the task; the visitor sees the reply
// and the end of the conversation. Prints "RESULT {json}" with what each
// side saw. Driven by e2e/taskrouter_chat_test.go.
//
// Environment: BASE (gateway URL), VISITOR_BASE (the visitor's gateway,
// default BASE), AGENT_ID, AGENT_SECRET, CHROMIUM
// (default /usr/bin/chromium); SCREENSHOT_DIR, when set, gets PNGs.
'use strict';

const { env, snap, launch, watchErrors, signInAvailable, run } = require('./agent_browser');

async function main() {
  const browser = await launch();
  const out = {};
  try {
    const agent = await browser.newPage();
    const visitor = await (await browser.newContext()).newPage();
    watchErrors(agent, 'agent');
    watchErrors(visitor, 'visitor');
    await signInAvailable(agent);

    await visitor.goto((process.env.VISITOR_BASE || env('BASE')) + '/webchat');
    await visitor.fill('#name', 'Vera');
    await visitor.click('#startBtn');
    await visitor.waitForSelector('#chat', { state: 'visible' });
    await visitor.fill('#body', 'Hello, my parcel is late');
    await visitor.click('#sendBtn');

    const pending = '.task[data-channel=chat][data-status=pending]';
    await agent.waitForSelector(pending, { timeout: 10000 });
    await snap(agent, 'chat-1-reservation');
    out.taskSid = await agent.getAttribute(pending, 'data-task');
    out.cardTitle = await agent.textContent(pending + ' h3');
    await agent.click(pending + ' button[data-action=accept]');
    const accepted = '.task[data-channel=chat][data-status=accepted]';
    await agent.waitForSelector(accepted + ' .msg.visitor');
    out.agentSaw = await agent.textContent(accepted + ' .msg.visitor');
    await agent.fill(accepted + ' input.reply', 'Sorry about that, checking now');
    await agent.press(accepted + ' input.reply', 'Enter');
    await snap(agent, 'chat-2-conversation');

    await visitor.waitForSelector('li[data-author=alice]', { timeout: 10000 });
    out.visitorSaw = await visitor.textContent('li[data-author=alice]');
    await snap(visitor, 'chat-3-visitor');

    await agent.click(accepted + ' button[data-action=complete]');
    await visitor.waitForFunction(() => document.getElementById('status').textContent.includes('ended'), null, { timeout: 10000 });
    out.visitorStatus = await visitor.textContent('#status');
    await agent.waitForFunction(() => !document.querySelector('.task[data-channel=chat]'));
    out.agentAfter = await agent.textContent('#task-list');
    console.log('RESULT ' + JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

run(main);
