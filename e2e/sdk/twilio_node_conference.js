// Drives Voxgate's Conferences and Participants API with the twilio npm
// package, unchanged but for the base URL. Prints one JSON line with what
// it saw; exits non-zero on any failure.
//
// env: BASE, SID, TOKEN, CONF (friendly name of a live conference with an
// agent, a customer and a coach), TO (a sip: URI that answers).
const twilio = require('twilio');

const { BASE, SID, TOKEN, CONF, TO } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitCount(conf, n, ms) {
  const deadline = Date.now() + ms;
  let list = [];
  while (Date.now() < deadline) {
    list = await conf.participants.list();
    if (list.length === n) return list;
    await sleep(200);
  }
  throw new Error(`${list.length} participants, want ${n}`);
}

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const out = {};
  const rooms = await client.conferences.list({ friendlyName: CONF, status: 'in-progress' });
  if (rooms.length !== 1) throw new Error(`${rooms.length} live conferences called ${CONF}`);
  const conf = client.conferences(rooms[0].sid);
  out.listed = (await conf.participants.list()).length;
  const coach = await conf.participants('coach').fetch();
  if (!coach.coaching) throw new Error('the coach is not coaching');
  out.coachOf = coach.callSidToCoach;

  const added = await conf.participants.create({ from: '+15550003333', to: TO, label: 'echo', muted: true, beep: 'false' });
  out.queued = added.status === 'queued' && added.callSid.startsWith('CA');
  out.added = (await waitCount(conf, 4, 15000)).length;
  await conf.participants('echo').update({ hold: true });
  out.held = (await conf.participants(added.callSid).fetch()).hold;
  await conf.participants('agent').update({ muted: true });
  await sleep(500);
  await conf.participants('agent').update({ muted: false });
  await conf.participants('echo').remove();
  out.removed = (await waitCount(conf, 3, 10000)).length;
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
