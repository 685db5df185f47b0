// Drives Voxgate's REST API with the twilio npm package exactly as an app
// would, pointing it at the gateway through a custom httpClient (the public
// option; see testing-with-real-peers.md §5.1). Prints one JSON line with
// what it saw; exits non-zero on any failure.
//
// env: BASE (gateway URL), SID, TOKEN, TO (sip: URI that answers), URL (TwiML URL),
// QUEUE (a queue with one caller waiting), DEQ_URL (TwiML to dequeue that caller into)
const twilio = require('twilio');

const { BASE, SID, TOKEN, TO, URL: TWIML_URL, QUEUE, DEQ_URL } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitStatus(client, sid, want, ms) {
  const deadline = Date.now() + ms;
  let call;
  while (Date.now() < deadline) {
    call = await client.calls(sid).fetch();
    if (want.includes(call.status)) return call;
    await sleep(200);
  }
  throw new Error(`call ${sid} status ${call && call.status}, want ${want}`);
}

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const out = {};

  const created = await client.calls.create({ to: TO, from: '+15550001111', url: TWIML_URL });
  out.created = { sid: created.sid, status: created.status, direction: created.direction, to: created.to };
  const live = await waitStatus(client, created.sid, ['in-progress'], 15000);
  out.live = live.status;

  await client.calls(created.sid).update({ twiml: '<Response><Say>Redirected by the SDK.</Say><Pause length="30"/></Response>' });
  await sleep(1500);
  await client.calls(created.sid).update({ status: 'completed' });
  const ended = await waitStatus(client, created.sid, ['completed'], 10000);
  out.ended = { status: ended.status, duration: ended.duration };

  const calls = await client.calls.list({ limit: 20 });
  out.listed = calls.some((c) => c.sid === created.sid);

  const q = await client.queues.create({ friendlyName: 'support-' + Date.now(), maxSize: 20 });
  out.queue = { sid: q.sid, maxSize: q.maxSize, currentSize: q.currentSize };
  const queues = await client.queues.list({ limit: 20 });
  out.queues = queues.some((x) => x.sid === q.sid);

  const waiting = (await client.queues.list({ limit: 50 })).find((x) => x.friendlyName === QUEUE);
  if (!waiting) throw new Error(`queue ${QUEUE} not listed`);
  const members = await client.queues(waiting.sid).members.list({ limit: 20 });
  const front = await client.queues(waiting.sid).members('Front').fetch();
  const dequeued = await client.queues(waiting.sid).members('Front').update({ url: DEQ_URL, method: 'POST' });
  out.members = { count: members.length, front: front.callSid, dequeued: dequeued.callSid, position: members[0] && members[0].position };

  const recs = await client.recordings.list({ limit: 5 });
  out.recordings = recs.length;

  try {
    await client.calls('CA00000000000000000000000000000000').fetch();
    out.notFound = 'no error';
  } catch (e) {
    out.notFound = { status: e.status, code: e.code };
  }
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
