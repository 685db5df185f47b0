// Drives the console in Debian's headless Chromium, for
// e2e/console_test.go, which reads the lines this prints and answers on
// stdin:
//
//	CANVAS {json}     the flow page: widgets, arrows and their labels
//	PUBLISHED {json}  a widget moved, one added and connected, published
//	                  (then waits for a line on stdin: a call has run)
//	PATH {json}       the latest execution's highlighted widgets and arrows
//	REVISION {json}   revision 1 drawn again
//	MESSAGE {json}    the messages list and a message's page
//	PLAYED {json}     the call page's recording played
//	AGENT_READY       an agent is Available (then waits for a line: a caller
//	                  is coming to the queue)
//	BOARD {json}      the live board with the waiting caller and the offer
//	DONE
//
// Environment: CONSOLE_URL (…/console), ACCOUNT_SID, AUTH_TOKEN,
// FLOW_SID, MOVE (the widget to drag), AGENT_ID and AGENT_SECRET (an agent
// of the queue support), CHROMIUM (default
// /usr/bin/chromium), SCREENSHOT_DIR (a PNG of every page, wide and narrow).
'use strict';

const { chromium } = require('playwright-core');
const readline = require('readline');

const env = (name, fallback) => {
  const v = process.env[name] || fallback;
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const base = env('CONSOLE_URL');
const flowSid = env('FLOW_SID');
const lines = readline.createInterface({ input: process.stdin });
const nextLine = () => new Promise((resolve) => lines.once('line', resolve));

async function snap(page, name) {
  const dir = process.env.SCREENSHOT_DIR;
  if (!dir) return;
  await page.waitForTimeout(300); // let React Flow finish drawing
  await page.screenshot({ path: `${dir}/${name}.png` });
}

async function canvas(page) {
  return page.evaluate(() => ({
    widgets: [...document.querySelectorAll('.react-flow__node')].map((n) => n.getAttribute('data-id')),
    arrows: [...document.querySelectorAll('.react-flow__edge')].length,
    labels: [...document.querySelectorAll('.react-flow__edge-text')].map((n) => n.textContent),
    onPath: [...document.querySelectorAll('.widget.on-path')].map((n) => n.getAttribute('data-widget')),
    hotArrows: [...document.querySelectorAll('.react-flow__edge.edge-on-path')].length,
    errorWidgets: [...document.querySelectorAll('.widget.has-error')].map((n) => n.getAttribute('data-widget')),
  }));
}

async function center(locator) {
  const b = await locator.boundingBox();
  if (!b) throw new Error('element not visible');
  return { x: b.x + b.width / 2, y: b.y + b.height / 2 };
}

async function drag(page, from, to) {
  await page.mouse.move(from.x, from.y);
  await page.mouse.down();
  for (let i = 1; i <= 12; i++) await page.mouse.move(from.x + ((to.x - from.x) * i) / 12, from.y + ((to.y - from.y) * i) / 12);
  await page.mouse.up();
}

async function main() {
  const browser = await chromium.launch({
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required',
      '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    page.on('console', (m) => console.error(`page console: ${m.text()}`));
    page.on('pageerror', (e) => console.error(`page error: ${e.message}`));

    // Sign in.
    await page.goto(`${base}/flows/${flowSid}`);
    await page.waitForSelector('#signin');
    await snap(page, '01-signin');
    await page.fill('#signin input[name=sid]', env('ACCOUNT_SID'));
    await page.fill('#signin input[name=token]', 'wrong-token');
    await page.click('#signin button[type=submit]');
    await page.waitForSelector('#signin [role=alert]');
    await page.fill('#signin input[name=token]', env('AUTH_TOKEN'));
    await page.click('#signin button[type=submit]');

    // The flow as the v2 API stored it.
    await page.waitForSelector('.react-flow__node');
    await page.waitForSelector('#validity');
    await snap(page, '02-flow-canvas');
    console.log(`CANVAS ${JSON.stringify(await canvas(page))}`);

    // Move a widget, add one, connect it, publish.
    const move = env('MOVE');
    const node = page.locator(`.react-flow__node[data-id="${move}"] .w-name`);
    const from = await center(node);
    await drag(page, from, { x: from.x + 160, y: from.y + 40 });
    await page.selectOption('#add-type', 'say-play');
    await page.click('#add-widget');
    await page.waitForSelector('.react-flow__node[data-id="say_play_1"]');
    await page.click('.react-flow__controls-fitview');
    await page.waitForTimeout(400);
    const src = page.locator(`.react-flow__handle.source[data-nodeid="${move}"][data-handleid="t0"]`);
    const dst = page.locator('.react-flow__handle.target[data-nodeid="say_play_1"]');
    await drag(page, await center(src), await center(dst));
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__edge').length > 0);
    await page.waitForTimeout(500); // the validator runs 250 ms after a change
    await snap(page, '03-flow-edited');

    // Configure the new widget: without anything to say the validator
    // flags it on the canvas; with a sentence it is clean again.
    await page.click('.react-flow__node[data-id="say_play_1"] .w-name');
    await page.waitForSelector('#widget-settings');
    const settings = JSON.parse(await page.inputValue('#widget-settings'));
    delete settings.properties.say;
    await page.fill('#widget-settings', JSON.stringify(settings, null, 2));
    await page.click('#apply-widget');
    await page.waitForSelector('.widget[data-widget="say_play_1"].has-warning, .widget[data-widget="say_play_1"].has-error');
    const flagged = await page.textContent('#widget-panel .problems');
    await snap(page, '04-flow-problem');
    settings.properties.say = 'Goodbye from the console.';
    await page.fill('#widget-settings', JSON.stringify(settings, null, 2));
    await page.click('#apply-widget');
    await page.waitForFunction(() => !document.querySelector('.widget[data-widget="say_play_1"].has-warning, .widget[data-widget="say_play_1"].has-error'));
    await page.fill('#commit-message', 'moved and added in the console');
    await page.click('#publish');
    await page.waitForSelector('#save-message');
    const saved = await page.textContent('#save-message');
    // Publishing redraws the canvas from the new revision: measure once its
    // arrows are back (the Go test checks how many; 5 s at most).
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__edge').length >= 4, null, { timeout: 5000 }).catch(() => {});
    await page.waitForTimeout(300); // labels are drawn just after their edges
    const after = await canvas(page);
    console.log(`PUBLISHED ${JSON.stringify({ saved, flagged, ...after })}`);

    // A call runs through the flow; then its path shows on the canvas.
    await nextLine();
    await page.reload();
    await page.waitForSelector('#execution option:nth-child(2)', { state: 'attached' });
    const fn = await page.$eval('#execution option:nth-child(2)', (o) => o.value);
    await page.selectOption('#execution', fn);
    await page.waitForSelector('.widget.on-path');
    await page.click('#exec-panel .steps li:last-child button');
    await page.waitForSelector('#exec-panel h4:has-text("Step context")');
    const stepContext = await page.textContent('#exec-panel pre.context');
    await snap(page, '05-flow-execution');
    console.log(`PATH ${JSON.stringify({ ...(await canvas(page)), execution: fn, stepContext: stepContext.slice(0, 400) })}`);

    // An older revision is drawn as it was.
    await page.selectOption('#revision', '1');
    await page.waitForFunction(() => !document.querySelector('.react-flow__node[data-id="say_play_1"]'));
    console.log(`REVISION ${JSON.stringify(await canvas(page))}`);

    // The calls list, the call page and its recording.
    await page.goto(`${base}/calls`);
    await page.waitForSelector('table tbody tr td a.sid');
    await snap(page, '06-calls');
    // Messages: the list and one message's page.
    await page.click('header nav a:has-text("Messages")');
    await page.waitForSelector('table tbody tr td a.sid');
    await snap(page, '06-messages');
    await page.click('table tbody tr td a.sid');
    await page.waitForSelector('#message-body');
    await snap(page, '06-message');
    console.log(`MESSAGE ${JSON.stringify({ body: await page.textContent('#message-body'), facts: await page.textContent('dl.facts') })}`);
    await page.goto(`${base}/calls`);
    await page.waitForSelector('table tbody tr td a.sid');
    await page.click('table tbody tr td a.sid');
    await page.waitForSelector('#timeline');
    await page.waitForSelector('.recordings audio');
    const played = await page.evaluate(async () => {
      const a = document.querySelector('.recordings audio');
      await a.play();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const r = { currentTime: a.currentTime, duration: a.duration, paused: a.paused, error: a.error && a.error.code, src: a.currentSrc };
      a.pause();
      return r;
    });
    const timeline = await page.$$eval('#timeline li', (els) => els.map((e) => e.className + ' ' + e.querySelector('.ev-title').textContent.slice(0, 160)));
    await page.click('#timeline li.ev-webhook button.link');
    await snap(page, '07-call');
    const callPath = new URL(page.url()).pathname;
    console.log(`PLAYED ${JSON.stringify({ ...played, timeline, path: callPath })}`);

    // The live board: an agent signs in on the agent page and goes
    // Available; a caller waits in its queue and is offered to her.
    const agent = await browser.newPage();
    await agent.goto(base.replace(/\/console$/, '/agent'));
    await agent.waitForSelector('#signin', { state: 'visible' });
    await agent.fill('#signin input[name=id]', env('AGENT_ID'));
    await agent.fill('#signin input[name=secret]', env('AGENT_SECRET'));
    await agent.click('#signin button[type=submit]');
    await agent.waitForSelector('#desk', { state: 'visible' });
    await agent.click('#presence');
    await agent.waitForSelector('#presence[aria-pressed=true]');
    await page.goto(`${base}/flows`);
    await page.waitForSelector('table tbody tr td a.sid');
    await snap(page, '08-flows');
    await page.goto(`${base}/board`);
    await page.waitForSelector('#agents tbody tr .activity-available');
    console.log('AGENT_READY');
    await nextLine(); // a caller is on its way to the queue
    await page.waitForSelector('#queues [data-queue=support]', { timeout: 20000 });
    await page.waitForSelector('#agents .activity-offered', { timeout: 20000 });
    await page.waitForTimeout(1500); // a wait worth showing
    await snap(page, '09-board');
    const board = await page.evaluate(() => ({
      queue: document.querySelector('#queues [data-queue=support]').textContent,
      agents: [...document.querySelectorAll('#agents tbody tr')].map((r) => r.textContent),
    }));
    console.log(`BOARD ${JSON.stringify(board)}`);
    await agent.close();

    // Narrow screen.
    await page.setViewportSize({ width: 390, height: 844 });
    for (const [name, path, sel] of [['10-narrow-calls', '/calls', 'table'], ['10-narrow-flows', '/flows', 'table'], ['11-narrow-flow', `/flows/${flowSid}`, '.react-flow__node'], ['12-narrow-board', '/board', '#queues']]) {
      await page.goto(base + path);
      await page.waitForSelector(sel);
      await snap(page, name);
    }
    await page.goto(new URL(callPath, base).href);
    await page.waitForSelector('.recordings audio');
    await snap(page, '13-narrow-call');
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth > window.innerWidth + 1);
    console.log(`NARROW ${JSON.stringify({ overflow })}`);
    console.log('DONE');
  } finally {
    await browser.close();
    lines.close();
  }
}

main().catch((e) => { console.error(e.stack || String(e)); process.exit(1); });
