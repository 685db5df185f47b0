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

const { env, snap, mediaArgs, launch, watchErrors, signInAvailable, run } = require('./agent_browser');

async function main() {
  const browser = await launch(mediaArgs);
  const out = {};
  try {
    const agent = await browser.newPage();
    watchErrors(agent, 'agent');
    await signInAvailable(agent);
    console.log('READY');

    const voice = '.task[data-channel=voice]';
    await agent.waitForSelector(voice + '[data-status=pending]', { timeout: 20000 });
    out.voiceTitle = await agent.textContent(voice + ' h3');
    await snap(agent, 'vc-1-voice-reservation');
    await agent.click(voice + ' button[data-action=accept]');
    await agent.waitForFunction(() => document.getElementById('call-state').textContent === 'Connected', null, { timeout: 15000 });
    console.log('CONNECTED');

    const visitor = await (await browser.newContext()).newPage();
    watchErrors(visitor, 'visitor');
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

    // The chat above can take less than a second on a quiet machine: give
    // the call time to carry at least 50 packets (1 s) each way, then read
    // the counters (the test checks them; 10 s at most).
    out.stats = await agent.evaluate(async () => {
      const read = async () => {
        const s = {};
        (await window.voxgateAgent.call.pc.getStats()).forEach((r) => {
          if (r.type === 'inbound-rtp' && r.kind === 'audio') s.packetsReceived = r.packetsReceived;
          if (r.type === 'outbound-rtp' && r.kind === 'audio') s.packetsSent = r.packetsSent;
        });
        return s;
      };
      const deadline = Date.now() + 10000;
      let s = await read();
      while ((!(s.packetsReceived >= 50) || !(s.packetsSent >= 50)) && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 100));
        s = await read();
      }
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

run(main);
