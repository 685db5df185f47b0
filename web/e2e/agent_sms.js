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

const { chromium } = require('playwright-core');

const env = (name, fallback) => {
  const v = process.env[name] || fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

async function snap(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const out = {};
  try {
    const agent = await browser.newPage();
    agent.on('pageerror', (e) => console.error(`agent page error: ${e.message}`));
    await agent.goto(env('BASE') + '/agent');
    await agent.waitForSelector('#signin', { state: 'visible' });
    await agent.fill('#signin input[name=id]', env('AGENT_ID'));
    await agent.fill('#signin input[name=secret]', env('AGENT_SECRET'));
    await agent.click('#signin button[type=submit]');
    await agent.waitForSelector('#tasks', { state: 'visible' });
    await agent.click('#presence');
    await agent.waitForFunction(() => document.getElementById('activity').value === 'Available');

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

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
