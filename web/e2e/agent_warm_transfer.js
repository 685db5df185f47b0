// A warm transfer between two agent desktops in headless Chromium, each
// in its own browser with its own fake microphone (MIC_A, MIC_B: WAV
// files). Alice accepts a voice task (the caller and she are in the
// task's conference room), consults Bob (agent:bob: his page rings, he
// accepts: the caller, Alice and Bob are in the room), then leaves; the
// caller stays with Bob, who hangs up at the end. Before the consult,
// supervisor Sue (a page in Bob's browser, so her microphone is Bob's)
// monitors Alice's call from her Live calls, then coaches Alice, then
// stops; Alice's page measures what it hears of Sue's tone. Driven by
// agent_desk_transfer_test.go, which times the caller's audio by these
// lines:
//
//	READY           both signed in and Available: call now
//	STAGE alice     Alice is on the call
//	STAGE monitor   Sue listens (her page answered the call it asked for)
//	STAGE coach     Sue coaches Alice
//	STAGE both      Bob has joined
//	STAGE bob       Alice has left
//	STAGE hold      Bob has held the caller and muted himself (buttons)
//	STAGE resumed   … and resumed and unmuted
//	RESULT {json}   what the desktops showed
//	ENDED           Bob hung up
//
// Environment: BASE, MIC_A, MIC_B, STAGE_MS (how long each stage lasts),
// CHROMIUM; SCREENSHOT_DIR, when set, gets PNGs.
'use strict';

const { env, snap, mediaArgs, launch, watchErrors, signInAvailable, run } = require('./agent_browser');

// levelAt runs in a page: the loudest level (dB) near hz of what the
// page plays out from its call.
async function levelAt(hz) {
  const ctx = new AudioContext();
  const analyser = ctx.createAnalyser();
  analyser.fftSize = 8192;
  ctx.createMediaStreamSource(document.getElementById('remote').srcObject).connect(analyser);
  await new Promise((r) => setTimeout(r, 700));
  const bins = new Float32Array(analyser.frequencyBinCount);
  analyser.getFloatFrequencyData(bins);
  const at = Math.round((hz * analyser.fftSize) / ctx.sampleRate);
  let best = -Infinity;
  for (let i = at - 3; i <= at + 3; i++) best = Math.max(best, bins[i]);
  await ctx.close();
  return best;
}

const connected = () => document.getElementById('call-state').textContent === 'Connected';

async function main() {
  const stageMs = Number(env('STAGE_MS', '3000'));
  const browserA = await launch([...mediaArgs, `--use-file-for-fake-audio-capture=${env('MIC_A')}`]);
  const browserB = await launch([...mediaArgs, `--use-file-for-fake-audio-capture=${env('MIC_B')}`]);
  const out = {};
  try {
    const alice = await browserA.newPage();
    watchErrors(alice, 'alice');
    const bob = await browserB.newPage();
    watchErrors(bob, 'bob');
    await signInAvailable(alice, 'alice', 'alice-secret-1');
    await signInAvailable(bob, 'bob', 'bob-secret-12');
    const sue = await browserB.newPage();
    watchErrors(sue, 'sue');
    await signInAvailable(sue, 'sue', 'sue-secret-12');
    console.log('READY');

    const voice = '.task[data-channel=voice]';
    await alice.waitForSelector(voice + '[data-status=pending]', { timeout: 30000 });
    await alice.click(voice + ' button[data-action=accept]');
    await alice.waitForFunction(connected, null, { timeout: 15000 });
    await alice.waitForSelector('.callctl .parties li[data-label=alice]', { timeout: 10000 });
    console.log('STAGE alice');
    await snap(alice, 'wt-1-alice');
    await alice.waitForTimeout(stageMs);

    await sue.waitForSelector('#supervise .livecall[data-task]', { timeout: 10000 });
    await sue.click('.livecall button[data-call-action=monitor]');
    await sue.waitForFunction(connected, null, { timeout: 15000 });
    await sue.waitForSelector('.livecall[data-mode=monitor]', { timeout: 10000 });
    console.log('STAGE monitor');
    out.sueLevelMonitor = await alice.evaluate(levelAt, 1500);
    await alice.waitForTimeout(stageMs);
    await sue.click('.livecall button[data-call-action=coach]');
    await sue.waitForSelector('.livecall[data-mode=coach]', { timeout: 10000 });
    console.log('STAGE coach');
    out.sueLevelCoach = await alice.evaluate(levelAt, 1500);
    await snap(sue, 'wt-sue-coach');
    await alice.waitForTimeout(stageMs);
    await sue.click('.livecall button[data-call-action=unmonitor]');
    await sue.waitForSelector('#call', { state: 'hidden', timeout: 10000 });
    await alice.waitForFunction(() => !document.querySelector('.callctl .parties li[data-label="supervisor:sue"]'), null, { timeout: 10000 });

    await alice.fill('.callctl input.target', 'agent:bob');
    await alice.click('.callctl button[data-call-action=consult]');
    await bob.waitForSelector('#offer', { state: 'visible', timeout: 15000 });
    out.bobOfferFrom = await bob.textContent('#offer-from');
    await bob.click('#accept');
    await bob.waitForFunction(connected, null, { timeout: 15000 });
    await alice.waitForSelector('.callctl .parties li[data-label=bob]', { timeout: 10000 });
    out.partiesDuringConsult = await alice.$$eval('.callctl .parties li[data-label]', (els) => els.map((e) => e.dataset.label));
    console.log('STAGE both');
    await snap(alice, 'wt-2-consult');
    await alice.waitForTimeout(stageMs);

    await alice.click('.callctl button[data-call-action=leave]');
    await alice.waitForSelector('#call', { state: 'hidden', timeout: 10000 });
    console.log('STAGE bob');
    await bob.waitForSelector('.callctl .parties li[data-label=bob]', { timeout: 10000 });
    await bob.waitForFunction(() => !document.querySelector('.callctl .parties li[data-label=alice]'), null, { timeout: 10000 });
    out.bobParties = await bob.$$eval('.callctl .parties li[data-label]', (els) => els.map((e) => e.dataset.label));
    await alice.waitForSelector(voice + '[data-status=wrapping]', { timeout: 10000 });
    out.aliceTask = await alice.getAttribute(voice, 'data-status');
    await snap(bob, 'wt-3-bob');
    await bob.waitForTimeout(stageMs);
    out.bobStats = await bob.evaluate(async () => {
      const s = {};
      (await window.voxgateAgent.call.pc.getStats()).forEach((r) => {
        if (r.type === 'inbound-rtp' && r.kind === 'audio') s.packetsReceived = r.packetsReceived;
        if (r.type === 'outbound-rtp' && r.kind === 'audio') s.packetsSent = r.packetsSent;
      });
      return s;
    });
    const customer = (hold) => `.callctl .parties li[data-label=customer][data-hold=${hold}]`;
    const bobMuted = (muted) => `.callctl .parties li[data-label=bob][data-muted=${muted}]`;
    await bob.click('.callctl button[data-call-action=hold]');
    await bob.waitForSelector(customer(true), { timeout: 10000 });
    await bob.click('.callctl button[data-call-action=mute]');
    await bob.waitForSelector(bobMuted(true), { timeout: 10000 });
    console.log('STAGE hold');
    await snap(bob, 'wt-4-hold');
    await bob.waitForTimeout(stageMs);
    await bob.click('.callctl button[data-call-action=unhold]');
    await bob.waitForSelector(customer(false), { timeout: 10000 });
    await bob.click('.callctl button[data-call-action=unmute]');
    await bob.waitForSelector(bobMuted(false), { timeout: 10000 });
    console.log('STAGE resumed');
    await bob.waitForTimeout(stageMs);
    console.log('RESULT ' + JSON.stringify(out));
    await bob.click('#hangup');
    await bob.waitForSelector('#call', { state: 'hidden' });
    console.log('ENDED');
  } finally {
    await browserA.close();
    await browserB.close();
  }
}

run(main);
