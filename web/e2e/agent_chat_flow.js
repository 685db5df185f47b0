// A web chat through a Studio Webchat Flow, both sides in headless
// Chromium: the visitor on /webchat writes; the flow asks a question
// (its bot lines appear in the chat) and routes by the visitor's answer;
// its send-to-flex gives the agent on /agent a chat reservation; the
// agent accepts, reads the whole chat, replies; the visitor sees the
// reply and answers; the agent sees that and completes the task; the
// visitor sees the chat end. Prints "RESULT {json}". Driven by
// e2e/taskrouter_webchatflow_test.go.
//
// Environment: BASE (gateway URL), AGENT_ID, AGENT_SECRET, CHROMIUM
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

// say writes a line as the visitor.
async function say(visitor, body) {
  await visitor.fill('#body', body);
  await visitor.click('#sendBtn');
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
    const visitor = await (await browser.newContext()).newPage();
    for (const [who, p] of [['agent', agent], ['visitor', visitor]]) {
      p.on('pageerror', (e) => console.error(`${who} page error: ${e.message}`));
    }
    await agent.goto(env('BASE') + '/agent');
    await agent.waitForSelector('#signin', { state: 'visible' });
    await agent.fill('#signin input[name=id]', env('AGENT_ID'));
    await agent.fill('#signin input[name=secret]', env('AGENT_SECRET'));
    await agent.click('#signin button[type=submit]');
    await agent.waitForSelector('#tasks', { state: 'visible' });
    await agent.click('#presence');
    await agent.waitForFunction(() => document.getElementById('activity').value === 'Available');

    await visitor.goto(env('BASE') + '/webchat');
    await visitor.fill('#name', 'Vera');
    await visitor.click('#startBtn');
    await visitor.waitForSelector('#chat', { state: 'visible' });
    await say(visitor, 'Hello, I have a question');
    await visitor.waitForSelector('li[data-author=bot]', { timeout: 10000 });
    out.question = await visitor.textContent('li[data-author=bot]');
    await say(visitor, 'Sales, please');
    await visitor.waitForFunction(() => document.querySelectorAll('li[data-author=bot]').length === 2, null, { timeout: 10000 });
    out.botLines = await visitor.$$eval('li[data-author=bot]', (els) => els.map((e) => e.textContent));
    await snap(visitor, 'flow-1-visitor');

    const pending = '.task[data-channel=chat][data-status=pending]';
    await agent.waitForSelector(pending, { timeout: 10000 });
    out.taskSid = await agent.getAttribute(pending, 'data-task');
    out.cardTitle = await agent.textContent(pending + ' h3');
    await agent.click(pending + ' button[data-action=accept]');
    const accepted = '.task[data-channel=chat][data-status=accepted]';
    await agent.waitForSelector(accepted + ' .msg.visitor');
    await agent.fill(accepted + ' input.reply', 'Hi Vera, Alice from sales');
    await agent.press(accepted + ' input.reply', 'Enter');
    await visitor.waitForSelector('li[data-author=alice]', { timeout: 10000 });
    out.visitorSaw = await visitor.textContent('li[data-author=alice]');
    await say(visitor, 'Great, thanks');
    await agent.waitForFunction((sel) => document.querySelectorAll(sel).length === 3, accepted + ' .msg.visitor', { timeout: 10000 });
    out.agentLines = await agent.$$eval(accepted + ' .msg', (els) => els.map((e) => e.textContent));
    await snap(agent, 'flow-2-agent');

    await agent.click(accepted + ' button[data-action=complete]');
    await visitor.waitForFunction(() => document.getElementById('status').textContent.includes('ended'), null, { timeout: 10000 });
    out.visitorStatus = await visitor.textContent('#status');
    console.log('RESULT ' + JSON.stringify(out));
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
