// Drives Voxgate's conference recordings with the twilio npm package,
// unchanged but for the base URL. Prints one JSON line with what it saw;
// exits non-zero on any failure.
//
// env: BASE, SID, TOKEN, CONF (a conference SID), MODE:
//   live — the conference is being recorded: list its recordings, pause
//          the current one (Twilio.CURRENT) for PAUSE_MS, resume it;
//   done — the conference has ended: list and fetch its recording, find
//          it in the account's recordings by conferenceSid, delete it.
const twilio = require('twilio');

const { BASE, SID, TOKEN, CONF, MODE, PAUSE_MS } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function live(client, out) {
  const conf = client.conferences(CONF);
  const list = await conf.recordings.list();
  out.listed = list.length;
  out.sid = list.length ? list[0].sid : '';
  out.status = list.length ? list[0].status : '';
  out.channels = list.length ? list[0].channels : 0;
  const paused = await conf.recordings('Twilio.CURRENT').update({ status: 'paused' });
  out.paused = paused.status === 'paused' && paused.sid === out.sid;
  await sleep(Number(PAUSE_MS || 1000));
  const resumed = await conf.recordings(out.sid).update({ status: 'in-progress' });
  out.resumed = resumed.status === 'in-progress';
}

async function done(client, out) {
  const conf = client.conferences(CONF);
  const list = await conf.recordings.list();
  out.listed = list.length;
  const rec = await conf.recordings(list[0].sid).fetch();
  out.sid = rec.sid;
  out.status = rec.status;
  out.channels = rec.channels;
  out.source = rec.source;
  out.conferenceSid = rec.conferenceSid;
  out.duration = Number(rec.duration);
  const account = await client.recordings.list({ conferenceSid: CONF });
  out.inAccount = account.length === 1 && account[0].sid === rec.sid && account[0].conferenceSid === CONF;
  out.removed = await conf.recordings(rec.sid).remove();
  try {
    await conf.recordings(rec.sid).fetch();
    out.goneAfterRemove = false;
  } catch (e) {
    out.goneAfterRemove = e.status === 404;
  }
}

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const out = {};
  if (MODE === 'live') await live(client, out);
  else await done(client, out);
  console.log(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack ? e.stack : e); process.exit(1); });
