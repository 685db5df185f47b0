// Shared by the agent_*.js scripts: their environment, screenshots, the
// headless Chromium they drive and the agent desktop's sign-in.
'use strict';

const { chromium } = require('playwright-core');

// env is an environment variable, or fallback; unset without one throws.
const env = (name, fallback) => {
  const v = process.env[name] || fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};

// snap saves a PNG of the page when SCREENSHOT_DIR is set.
async function snap(page, name) {
  if (process.env.SCREENSHOT_DIR) await page.screenshot({ path: `${process.env.SCREENSHOT_DIR}/${name}.png`, fullPage: true });
}

// mediaArgs let a page place WebRTC calls unattended: QUIC off, the fake
// microphone and camera granted without asking, audio played without a
// gesture.
const mediaArgs = ['--disable-quic', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required'];

// launch starts Debian's headless Chromium (CHROMIUM, default
// /usr/bin/chromium) quiet and offline, with extra flags added.
function launch(extra = []) {
  return chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', ...extra],
  });
}

// watchErrors logs a page's uncaught errors as "<who> page error: …".
function watchErrors(page, who) {
  page.on('pageerror', (e) => console.error(`${who} page error: ${e.message}`));
}

// signInAvailable opens BASE/agent, signs in as id (default AGENT_ID,
// with secret, default AGENT_SECRET) and goes Available.
async function signInAvailable(agent, id, secret) {
  await agent.goto(env('BASE') + '/agent');
  await agent.waitForSelector('#signin', { state: 'visible' });
  await agent.fill('#signin input[name=id]', id || env('AGENT_ID'));
  await agent.fill('#signin input[name=secret]', secret || env('AGENT_SECRET'));
  await agent.click('#signin button[type=submit]');
  await agent.waitForSelector('#tasks', { state: 'visible' });
  await agent.click('#presence');
  await agent.waitForFunction(() => document.getElementById('activity').value === 'Available');
}

// run runs a script's main, exiting 1 with the stack when it fails.
function run(main) {
  main().catch((e) => {
    console.error(e && e.stack ? e.stack : e);
    process.exit(1);
  });
}

module.exports = { env, snap, mediaArgs, launch, watchErrors, signInAvailable, run };
