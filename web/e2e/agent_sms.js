// An agent on the /agent desktop in headless Chromium takes an SMS
// conversation a Studio messaging flow handed to Flex: goes Available,
// accepts the sms reservation, reads the handset's message, replies (the
// gateway sends the reply as SMS), waits for the handset's next message
// (the Go test sends it once the reply reached the SMSC), then completes
// the task. Prints "RESULT {json}" with what the agent saw. Driven by
// e2e/taskrouter_sms_test.go.
//
// Environment: BASE (gateway URL), AGENT_ID, AGENT_SECRET, REPLY, CHROMIUM
// (default /usr/bin/chromium); SCREENSHOT_DIR, when set, gets PNGs.
'use strict';

const { env, snap, launch, watchErrors, signInAvailable, run } = require('./agent_browser');

async function main() {
  const browser = await launch();
  const out = {};
  try {
    const agent = await browser.newPage();
    watchErrors(agent, 'agent');
    await signInAvailable(agent);

    const pending = '.task[data-channel=sms][data-status=pending]';
    await agent.waitForSelector(pending, { timeout: 20000 });
    await snap(agent, 'sms-1-reservation');
    out.taskSid = await agent.getAttribute(pending, 'data-task');
    out.cardTitle = await agent.textContent(pending + ' h3');
    await agent.click(pending + ' button[data-action=accept]');
    const accepted = '.task[data-channel=sms][data-status=accepted]';
    await agent.waitForSelector(accepted + ' .msg.visitor');
    out.firstSeen = await agent.textContent(accepted + ' .msg.visitor');
    await agent.fill(accepted + ' input.reply', env('REPLY'));
    await agent.press(accepted + ' input.reply', 'Enter');
    await agent.waitForSelector(`${accepted} .msg.agent[data-author="${env('AGENT_ID')}"]`, { timeout: 10000 });
    out.replyShown = await agent.textContent(`${accepted} .msg.agent[data-author="${env('AGENT_ID')}"]`);

    // The handset writes again: the message appears in the conversation.
    await agent.waitForFunction((sel) => document.querySelectorAll(sel).length >= 2, accepted + ' .msg.visitor', { timeout: 20000 });
    out.contactLines = await agent.$$eval(accepted + ' .msg.visitor', (els) => els.map((e) => e.textContent));
    await snap(agent, 'sms-2-conversation');

    await agent.click(accepted + ' button[data-action=complete]');
    await agent.waitForFunction(() => !document.querySelector('.task[data-channel=sms]'));
    out.agentAfter = await agent.textContent('#task-list');
    console.log('RESULT ' + JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

run(main);
