// Plays the agent in headless Chromium on the real softphone page: signs
// in, goes Available, accepts the offer, listens, reports WebRTC stats and
// what the caller's audio sounded like, then hangs up. Driven by
// chromium_test.go, which reads the lines this prints:
//
//	READY                 signed in and Available: enqueue the caller now
//	CONNECTED             the call is up
//	RESULT {json}         stats and measurements
//	ENDED                 hung up, browser closing
//
// Environment: AGENT_URL (the page), AGENT_ID, AGENT_SECRET, MIC_WAV (the
// fake microphone, a WAV file), LISTEN_MS (how long to stay on the call),
// CHROMIUM (default /usr/bin/chromium); SCREENSHOT_DIR, when set, gets a
// PNG of each stage of the page.
'use strict';

const { env, snap, mediaArgs, launch } = require('./agent_browser');

async function main() {
  const browser = await launch([...mediaArgs, `--use-file-for-fake-audio-capture=${env('MIC_WAV')}`]);
  try {
    const page = await browser.newPage();
    page.on('console', (m) => console.error(`page console: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));
    await page.goto(env('AGENT_URL'));
    await page.waitForSelector('#signin', { state: 'visible' });
    await snap(page, '1-signin');

    await page.fill('#signin input[name=id]', env('AGENT_ID'));
    await page.fill('#signin input[name=secret]', env('AGENT_SECRET'));
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#desk', { state: 'visible' });
    await page.click('#presence');
    await page.waitForSelector('#presence[aria-pressed=true]');
    console.log('READY');

    await page.waitForSelector('#offer', { state: 'visible', timeout: 15000 });
    await snap(page, '2-offer');
    const offer = {
      from: await page.textContent('#offer-from'),
      queue: await page.textContent('#offer-queue'),
      attributes: await page.textContent('#offer-attrs'),
    };
    await page.click('#accept');
    await page.waitForFunction(() => document.getElementById('call-state').textContent === 'Connected', null, { timeout: 15000 });
    console.log('CONNECTED');
    await snap(page, '3-call');

    await page.waitForTimeout(Number(env('LISTEN_MS', '3000')));
    const measured = await page.evaluate(measure);
    const queues = await page.$$eval('#queues tbody tr', (rows) => rows.map((r) => r.innerText));
    console.log(`RESULT ${JSON.stringify({ offer, queues, ...measured })}`);

    await page.click('#hangup');
    await page.waitForSelector('#call', { state: 'hidden' });
    await snap(page, '4-ended');
    console.log('ENDED');
  } finally {
    await browser.close();
  }
}

// measure runs in the page: the call's getStats, and the loudest
// frequency of the caller's audio as played out (WebAudio analyser).
async function measure() {
  const pc = window.voxgateAgent.call.pc;
  const stats = {};
  (await pc.getStats()).forEach((s) => {
    if (s.type === 'inbound-rtp' && s.kind === 'audio') {
      stats.inbound = { packetsReceived: s.packetsReceived, packetsLost: s.packetsLost, totalAudioEnergy: s.totalAudioEnergy, audioLevel: s.audioLevel, codecId: s.codecId };
    }
    if (s.type === 'outbound-rtp' && s.kind === 'audio') {
      stats.outbound = { packetsSent: s.packetsSent, bytesSent: s.bytesSent, codecId: s.codecId };
    }
    if (s.type === 'media-source' && s.kind === 'audio') stats.micLevel = s.audioLevel;
    if (s.type === 'codec') (stats.codecs = stats.codecs || {})[s.id] = s.mimeType;
  });
  stats.inboundCodec = stats.codecs && stats.inbound && stats.codecs[stats.inbound.codecId];
  stats.outboundCodec = stats.codecs && stats.outbound && stats.codecs[stats.outbound.codecId];

  const ctx = new AudioContext();
  const source = ctx.createMediaStreamSource(document.getElementById('remote').srcObject);
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  source.connect(analyser);
  await new Promise((r) => setTimeout(r, 500));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  let peak = 0;
  for (let i = 1; i < bins.length; i++) if (bins[i] > bins[peak]) peak = i;
  const peakHz = (peak * ctx.sampleRate) / analyser.fftSize;
  const peakDb = bins[peak];
  await ctx.close();
  return { stats, peakHz, peakDb };
}

main().catch((err) => {
  console.error(`agent_call: ${err.stack || err}`);
  process.exit(1);
});
