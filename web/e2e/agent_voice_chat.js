// One agent desktop session in headless Chromium taking a TaskRouter
// voice task and a web chat at once: the agent signs in and goes
// Available (READY: the Go test starts a SIPp caller running <Enqueue
// workflowSid>); the voice reservation appears on the desktop, the agent
// accepts it and the call is answered by the page itself over WebRTC
// (CONNECTED); while on the call a visitor opens /webchat and writes, the
// agent accepts the chat, replies, and the visitor sees it; then the
// agent hangs up and completes both tasks (RESULT {json}, ENDED).
//
// Environment: BASE, AGENT_ID, AGENT_SECRET, CHROMIUM (default
// /usr/bin/chromium); SCREENSHOT_DIR, when set, gets PNGs.
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
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
      '--autoplay-policy=no-user-gesture-required'],
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
    console.log('READY');

    const voice = '.task[data-channel=voice]';
    await agent.waitForSelector(voice + '[data-status=pending]', { timeout: 20000 });
    out.voiceTitle = await agent.textContent(voice + ' h3');
    await snap(agent, 'vc-1-voice-reservation');
    await agent.click(voice + ' button[data-action=accept]');
    await agent.waitForFunction(() => document.getElementById('call-state').textContent === 'Connected', null, { timeout: 15000 });
    console.log('CONNECTED');

    const visitor = await (await browser.newContext()).newPage();
    visitor.on('pageerror', (e) => console.error(`visitor page error: ${e.message}`));
    await visitor.goto(env('BASE') + '/webchat');
    await visitor.fill('#name', 'Vera');
    await visitor.click('#startBtn');
    await visitor.waitForSelector('#chat', { state: 'visible' });
    await visitor.fill('#body', 'Is anyone there?');
    await visitor.click('#sendBtn');
    const chat = '.task[data-channel=chat]';
    await agent.waitForSelector(chat + '[data-status=pending]', { timeout: 10000 });
    out.tasksDuringCall = await agent.$$eval('.task', (els) => els.map((e) => `${e.dataset.channel}:${e.dataset.status}`));
    await agent.click(chat + ' button[data-action=accept]');
    await agent.waitForSelector(chat + '[data-status=accepted] .msg.visitor');
    await agent.fill(chat + ' input.reply', 'Yes, one moment please');
    await agent.press(chat + ' input.reply', 'Enter');
    await visitor.waitForSelector('li[data-author=alice]', { timeout: 10000 });
    out.visitorSaw = await visitor.textContent('li[data-author=alice]');
    await snap(agent, 'vc-2-call-and-chat');

    out.stats = await agent.evaluate(async () => {
      const s = {};
      (await window.voxgateAgent.call.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') s.packetsReceived = r.packetsReceived;
        if (r.type === 'outbound-rtp' && r.kind === 'audio') s.packetsSent = r.packetsSent;
      });
      return s;
    });

    await agent.click('#hangup');
    await agent.waitForSelector('#call', { state: 'hidden' });
    await agent.waitForSelector(voice + '[data-status=wrapping]', { timeout: 10000 });
    await agent.click(voice + ' button[data-action=complete]');
    await agent.click(chat + ' button[data-action=complete]');
    await agent.waitForFunction(() => !document.querySelector('.task'), null, { timeout: 10000 });
    out.voiceTask = await agent.evaluate(() => window.voxgateAgent.desk.tasks.length);
    console.log('RESULT ' + JSON.stringify(out));
    console.log('ENDED');
  } finally {
    await browser.close();
  }
}

main().catch((e) => {
  console.error(e && e.stack ? e.stack : e);
  process.exit(1);
});
