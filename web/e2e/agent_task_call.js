// One agent desktop in headless Chromium taking a TaskRouter voice task,
// for the cluster test (whose caller may wait on another gateway): the
// agent signs in and goes Available (READY); the voice reservation
// appears, the agent accepts it and the page answers the call itself over
// WebRTC (CONNECTED); after LISTEN_MS it reports the call's WebRTC
// counters (RESULT {json}), hangs up and completes the task (ENDED).
//
// Environment: BASE, AGENT_ID, AGENT_SECRET, MIC_WAV (the fake
// microphone, a WAV file), LISTEN_MS, CHROMIUM (default /usr/bin/chromium).
'use strict';

const { env, mediaArgs, launch, watchErrors, signInAvailable, run } = require('./agent_browser');

async function main() {
  const browser = await launch([...mediaArgs, `--use-file-for-fake-audio-capture=${env('MIC_WAV')}`]);
  const out = {};
  try {
    const agent = await browser.newPage();
    watchErrors(agent, 'agent');
    await signInAvailable(agent);
    console.log('READY');

    const voice = '.task[data-channel=voice]';
    await agent.waitForSelector(voice + '[data-status=pending]', { timeout: 30000 });
    out.voiceTitle = await agent.textContent(voice + ' h3');
    await agent.click(voice + ' button[data-action=accept]');
    await agent.waitForFunction(() => document.getElementById('call-state').textContent === 'Connected', null, { timeout: 20000 });
    console.log('CONNECTED');
    await new Promise((r) => setTimeout(r, Number(env('LISTEN_MS', '4000'))));
    out.stats = await agent.evaluate(async () => {
      const s = {};
      (await window.voxgateAgent.call.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') {
          s.packetsReceived = r.packetsReceived;
          s.totalAudioEnergy = r.totalAudioEnergy;
        }
        if (r.type === 'outbound-rtp' && r.kind === 'audio') s.packetsSent = r.packetsSent;
      });
      return s;
    });
    console.log('RESULT ' + JSON.stringify(out));
    await agent.click('#hangup');
    await agent.waitForSelector('#call', { state: 'hidden' });
    await agent.waitForSelector(voice + '[data-status=wrapping]', { timeout: 10000 });
    await agent.click(voice + ' button[data-action=complete]');
    await agent.waitForFunction(() => !document.querySelector('.task'), null, { timeout: 10000 });
    console.log('ENDED');
  } finally {
    await browser.close();
  }
}

run(main);
