// Drives the Messages resource with the twilio npm package, unchanged but
// for the base URL, and prints one JSON line with what it saw.
// env: BASE, SID, TOKEN, FROM (our number), TO (a mobile), STATUS_URL,
// OPTED_OUT (a contact that sent STOP, or "")
const twilio = require('twilio');

const { BASE, SID, TOKEN, FROM, TO, STATUS_URL, OPTED_OUT } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const out = {};
  const m = await client.messages.create({ to: TO, from: FROM, body: 'Your code is 1234 ✓ — über long '.repeat(3), statusCallback: STATUS_URL });
  out.created = { sid: m.sid, status: m.status, direction: m.direction, numSegments: m.numSegments, to: m.to, from: m.from };
  let fetched;
  for (let i = 0; i < 100; i++) {
    fetched = await client.messages(m.sid).fetch();
    if (fetched.status === 'delivered') break;
    await sleep(100);
  }
  out.fetched = { status: fetched.status, dateSent: fetched.dateSent ? fetched.dateSent.toISOString() : null, errorCode: fetched.errorCode };
  const listed = await client.messages.list({ to: TO, limit: 20 });
  out.listed = listed.map((x) => x.sid);
  const today = new Date();
  out.listedToday = (await client.messages.list({ dateSentAfter: new Date(today.getTime() - 86400000), limit: 50 })).some((x) => x.sid === m.sid);
  const redacted = await client.messages(m.sid).update({ body: '' });
  out.redactedBody = redacted.body;
  try {
    await client.messages(m.sid).update({ status: 'canceled' });
    out.cancel = 'accepted';
  } catch (e) {
    out.cancel = e.code;
  }
  await client.messages(m.sid).remove();
  try {
    await client.messages(m.sid).fetch();
    out.afterDelete = 200;
  } catch (e) {
    out.afterDelete = e.status;
  }
  if (OPTED_OUT) {
    try {
      await client.messages.create({ to: OPTED_OUT, from: FROM, body: 'promo' });
      out.optedOut = 0;
    } catch (e) {
      out.optedOut = e.code;
    }
  }
  const resp = new twilio.twiml.MessagingResponse();
  resp.message({ action: '/status' }, 'Hi back');
  const second = resp.message({ to: TO });
  second.body('Second');
  out.twiml = resp.toString();
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e) => { console.error(e); process.exit(1); });
