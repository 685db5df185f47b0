// A fake SMSC for Voxgate's tests: node-smpp (npm "smpp" 0.5.1) in server
// mode, on 127.0.0.1. Prints one JSON line per event on stdout; the first is
// {"event":"listening","smpp":PORT,"http":PORT}.
//
// env: SMPP_PORT (default 0 = any), SMPP_USER / SMPP_PASS (credentials a bind
// must present), THROTTLE_EVERY=N (answer every Nth submit_sm ESME_RTHROTTLED),
// RECEIPT_DELAY_MS (default 20), RECEIPT_STAT (default DELIVRD), RECEIPT_ID
// (hex = as submitted, dec = the decimal form of the hex id), QUIET=1 (no
// per-PDU lines: benchmarks), RESP_DELAY_MS (hold each submit_sm_resp).
//
// HTTP control:
//   POST /mo?from=&to=&text=[&parts=N][&coding=ucs2]  send an MO (split into N UDH parts);
//        answers {"statuses":[...]} once every deliver_sm_resp arrived
//   POST /drop                                        destroy every connection
//   GET  /stats                                       counters
const smpp = require('smpp');
const http = require('http');

const env = process.env;
const USER = env.SMPP_USER || 'voxgate';
const PASS = env.SMPP_PASS || 'secret';
const THROTTLE_EVERY = parseInt(env.THROTTLE_EVERY || '0', 10);
const RECEIPT_DELAY = parseInt(env.RECEIPT_DELAY_MS || '20', 10);
const RECEIPT_STAT = env.RECEIPT_STAT || 'DELIVRD';
const RECEIPT_ID = env.RECEIPT_ID || 'hex';
const QUIET = env.QUIET === '1';
const RESP_DELAY = parseInt(env.RESP_DELAY_MS || '0', 10); // hold each submit_sm_resp this long

const log = (o) => { if (!QUIET || o.event) process.stdout.write(JSON.stringify(o) + '\n'); };
const stats = { binds: 0, submits: 0, throttled: 0, receipts_sent: 0, receipts_acked: 0, mo_acked: 0, unbinds: 0 };
const sessions = new Set();
let nextId = 0x10000;
let submitCount = 0;

function stamp() {
  const d = new Date();
  const p = (n) => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) + p(d.getUTCHours()) + p(d.getUTCMinutes());
}

function udhInfo(buf, esm) {
  if (!(esm & 0x40) || buf.length === 0) return null;
  const len = buf[0];
  return buf.slice(0, len + 1).toString('hex');
}

function onSubmit(s, pdu) {
  submitCount++;
  stats.submits++;
  if (THROTTLE_EVERY > 0 && submitCount % THROTTLE_EVERY === 0) {
    stats.throttled++;
    log({ pdu: 'submit_sm', throttled: true, to: pdu.destination_addr });
    s.send(pdu.response({ command_status: smpp.ESME_RTHROTTLED }));
    return;
  }
  const id = (nextId++).toString(16);
  const raw = pdu.short_message && pdu.short_message.message;
  const sar = pdu.sar_msg_ref_num !== undefined ? [pdu.sar_msg_ref_num, pdu.sar_total_segments, pdu.sar_segment_seqnum] : null;
  const buf = Buffer.isBuffer(pdu.short_message) ? pdu.short_message : null;
  log({
    pdu: 'submit_sm', id, from: pdu.source_addr, from_ton: pdu.source_addr_ton, from_npi: pdu.source_addr_npi,
    to: pdu.destination_addr, to_ton: pdu.dest_addr_ton, to_npi: pdu.dest_addr_npi, esm_class: pdu.esm_class,
    registered_delivery: pdu.registered_delivery, data_coding: pdu.data_coding,
    text: typeof raw === 'string' ? raw : (raw ? raw.toString('hex') : ''),
    udh: pdu.short_message && pdu.short_message.udh ? pdu.short_message.udh.map((u) => u.toString('hex')).join('') : (buf ? udhInfo(buf, pdu.esm_class) : null),
    sar,
  });
  if (RESP_DELAY > 0) {
    setTimeout(() => { s.send(pdu.response({ message_id: id })); }, RESP_DELAY);
  } else {
    s.send(pdu.response({ message_id: id }));
  }
  if (!(pdu.registered_delivery & 0x03)) return;
  setTimeout(() => {
    const rid = RECEIPT_ID === 'dec' ? String(parseInt(id, 16)) : id;
    const state = RECEIPT_STAT === 'DELIVRD' ? 2 : (RECEIPT_STAT === 'EXPIRED' ? 3 : (RECEIPT_STAT === 'REJECTD' ? 8 : 5));
    stats.receipts_sent++;
    deliverReceipt({
      source_addr: pdu.destination_addr, source_addr_ton: pdu.dest_addr_ton, source_addr_npi: pdu.dest_addr_npi,
      destination_addr: pdu.source_addr, destination_addr_ton: pdu.source_addr_ton, esm_class: 4,
      short_message: `id:${rid} sub:001 dlvrd:001 submit date:${stamp()} done date:${stamp()} stat:${RECEIPT_STAT} err:000 text:`,
      receipted_message_id: rid, message_state: state, rid,
    });
  }, RECEIPT_DELAY);
}

// Receipts are stored and forwarded like a real SMSC's: one that cannot be
// delivered now (no receiver bound, or the connection dropped before its
// deliver_sm_resp) waits for the next bind.
const waitingReceipts = [];
function deliverReceipt(r) {
  const rs = receivers();
  if (rs.length === 0) { waitingReceipts.push(r); return; }
  const s = rs[0];
  const { rid, ...opts } = r;
  s.unacked = s.unacked || new Map();
  s.unacked.set(rid, r);
  s.deliver_sm(opts, (resp) => {
    s.unacked.delete(rid);
    if (resp.command_status === 0) stats.receipts_acked++;
    else waitingReceipts.push(r);
    log({ pdu: 'deliver_sm_resp', receipt: rid, command_status: resp.command_status });
  });
}
function flushReceipts() {
  const all = waitingReceipts.splice(0);
  for (const r of all) deliverReceipt(r);
}

const server = smpp.createServer({}, (s) => {
  sessions.add(s);
  s.on('error', () => {});
  s.on('close', () => {
    sessions.delete(s);
    if (s.unacked) { for (const r of s.unacked.values()) waitingReceipts.push(r); s.unacked.clear(); }
    setTimeout(flushReceipts, 10);
  });
  const bind = (kind) => (pdu) => {
    const ok = pdu.system_id === USER && pdu.password === PASS;
    log({ pdu: kind, system_id: pdu.system_id, system_type: pdu.system_type, interface_version: pdu.interface_version, ok });
    if (!ok) {
      s.send(pdu.response({ command_status: smpp.ESME_RBINDFAIL }));
      s.close();
      return;
    }
    stats.binds++;
    s.kind = kind;
    s.send(pdu.response({ system_id: 'fakesmsc' }));
    if (kind !== 'bind_transmitter') setTimeout(flushReceipts, 10);
  };
  s.on('bind_transceiver', bind('bind_transceiver'));
  s.on('bind_transmitter', bind('bind_transmitter'));
  s.on('bind_receiver', bind('bind_receiver'));
  s.on('enquire_link', (pdu) => { log({ pdu: 'enquire_link' }); s.send(pdu.response()); });
  s.on('unbind', (pdu) => { stats.unbinds++; log({ pdu: 'unbind' }); s.send(pdu.response()); s.close(); });
  s.on('submit_sm', (pdu) => onSubmit(s, pdu));
});

function receivers() {
  return [...sessions].filter((s) => s.kind === 'bind_transceiver' || s.kind === 'bind_receiver');
}

function sendMO(q, res) {
  const rs = receivers();
  if (rs.length === 0) { res.writeHead(409); res.end('{"error":"no receiver bound"}'); return; }
  const s = rs[0];
  const count = parseInt(q.get('count') || '0', 10);
  if (count > 0) return sendMany(s, q, count, res);
  const text = q.get('text') || '';
  const n = parseInt(q.get('parts') || '1', 10);
  const chunks = [];
  const chars = [...text];
  const per = Math.ceil(chars.length / n);
  for (let i = 0; i < n; i++) chunks.push(chars.slice(i * per, (i + 1) * per).join(''));
  const ref = Math.floor(Math.random() * 256);
  const statuses = new Array(n);
  let left = n;
  chunks.forEach((chunk, i) => {
    const opts = {
      source_addr: q.get('from'), source_addr_ton: 1, source_addr_npi: 1,
      destination_addr: q.get('to'), dest_addr_ton: 1, dest_addr_npi: 1,
      short_message: n > 1 ? { udh: Buffer.from([5, 0, 3, ref, n, i + 1]), message: chunk } : chunk,
    };
    if (q.get('coding') === 'ucs2') opts.data_coding = 8;
    s.deliver_sm(opts, (resp) => {
      statuses[i] = resp.command_status;
      if (resp.command_status === 0) stats.mo_acked++;
      log({ pdu: 'deliver_sm_resp', mo: i + 1, of: n, command_status: resp.command_status });
      if (--left === 0) { res.writeHead(200); res.end(JSON.stringify({ statuses })); }
    });
  });
}

// sendMany pushes count single-part MOs whose text is the time they were
// sent (ms since the epoch), for latency measurements, at rate per second
// (all at once without one); it answers once all were acknowledged.
function sendMany(s, q, count, res) {
  let left = count;
  let failed = 0;
  const rate = parseInt(q.get('rate') || '0', 10); // MOs per second, 0 = all at once
  const perTick = rate > 0 ? Math.max(1, Math.round(rate / 100)) : count;
  let sent = 0;
  const tick = () => {
    for (let k = 0; k < perTick && sent < count; k++, sent++) one();
    if (sent < count) setTimeout(tick, 10);
  };
  const one = () => {
    s.deliver_sm({
      source_addr: q.get('from'), source_addr_ton: 1, source_addr_npi: 1,
      destination_addr: q.get('to'), dest_addr_ton: 1, dest_addr_npi: 1,
      short_message: String(Date.now()),
    }, (resp) => {
      if (resp.command_status === 0) stats.mo_acked++; else failed++;
      if (--left === 0) { res.writeHead(200); res.end(JSON.stringify({ statuses: [failed] })); }
    });
  };
  tick();
}

const control = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  if (req.method === 'POST' && u.pathname === '/mo') return sendMO(u.searchParams, res);
  if (req.method === 'POST' && u.pathname === '/drop') {
    const n = sessions.size;
    for (const s of sessions) s.destroy();
    log({ event: 'dropped', sessions: n });
    res.end(JSON.stringify({ dropped: n }));
    return;
  }
  if (u.pathname === '/stats') { res.end(JSON.stringify(stats)); return; }
  res.writeHead(404); res.end();
});

server.listen(parseInt(env.SMPP_PORT || '0', 10), '127.0.0.1', () => {
  control.listen(0, '127.0.0.1', () => {
    log({ event: 'listening', smpp: server.address().port, http: control.address().port });
  });
});
