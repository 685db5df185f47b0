'use strict';
// Voxgate's Functions runner: one long-lived Node.js process per deployed
// build, driven by the gateway (package functions). It runs Twilio
// Serverless handlers unchanged: exports.handler(context, event, callback)
// with the Twilio, Runtime and Functions globals.
//
// Protocol: newline-delimited JSON. File descriptor 3 carries the gateway's
// messages, file descriptor 4 the runner's, so stdout and stderr stay free
// for whatever functions print.
//   in:  {t:"init", build, functions:[{path,visibility,file}], assets:[...],
//         apiBase, runtimeModules, contextKeys (the process.env names that
//         are Variables or credentials)}
//        {t:"req", id, path, event, ctx:{DOMAIN_NAME, PATH, SERVICE_SID,
//         ENVIRONMENT_SID, ACCOUNT_SID?, AUTH_TOKEN?}}
//        {t:"ping"} | {t:"cancel", id}
//   out: {t:"ready"} | {t:"res", id, status, headers:{name:[v]}, body(base64)}
//        {t:"log", id, level, msg} | {t:"pong"}

const net = require('net');
const fs = require('fs');
const util = require('util');
const Module = require('module');
const { AsyncLocalStorage } = require('async_hooks');

const als = new AsyncLocalStorage();
const out = new net.Socket({ fd: 4, readable: false, writable: true });
const send = (msg) => out.write(JSON.stringify(msg) + '\n');

// console.* goes to the gateway's log, tagged with the request it came from.
for (const [name, level] of [['log', 'info'], ['info', 'info'], ['debug', 'debug'], ['warn', 'warn'], ['error', 'error']]) {
  console[name] = (...args) => {
    const s = als.getStore();
    send({ t: 'log', id: s ? s.id : null, level, msg: util.format(...args) });
  };
}

let Twilio; // the project's twilio module, or the runtime's
let functions = {}; // Runtime.getFunctions(): path without slash → {path}
let privateAssets = {}; // Runtime.getAssets(): path → {path, open()}
let byPath = new Map(); // function path → file
let apiBase = '';
let variables = {}; // the environment's Variables (and credentials), for context

// TwilioResponse is Twilio.Response: status, headers and body set by the
// function (the runtime's documented API).
class TwilioResponse {
  constructor(options = {}) {
    this.statusCode = options.statusCode || 200;
    this.body = options.body === undefined ? null : options.body;
    this.headers = { 'Set-Cookie': [] };
    if (options.headers) this.setHeaders(options.headers);
  }
  setStatusCode(code) { this.statusCode = code; return this; }
  setBody(body) { this.body = body; return this; }
  setHeaders(headers) {
    if (typeof headers !== 'object' || headers === null) return this;
    this.headers = { 'Set-Cookie': [] };
    for (const [k, v] of Object.entries(headers)) {
      if (k.toLowerCase() === 'set-cookie') this.headers['Set-Cookie'] = [].concat(v);
      else this.headers[k] = v;
    }
    return this;
  }
  appendHeader(key, value) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      throw new Error('Header value cannot be an object');
    }
    if (key.toLowerCase() === 'set-cookie') {
      this.headers['Set-Cookie'] = this.headers['Set-Cookie'].concat(value);
      return this;
    }
    const old = this.headers[key];
    this.headers[key] = old === undefined ? value : [].concat(old, value);
    return this;
  }
  setCookie(name, value, attributes = []) {
    this.headers['Set-Cookie'].push([`${name}=${value}`, ...attributes].join(';'));
    return this;
  }
  removeCookie(name) {
    this.headers['Set-Cookie'] = this.headers['Set-Cookie'].filter((c) => !c.startsWith(name + '='));
    this.headers['Set-Cookie'].push(`${name}=;Max-Age=0`);
    return this;
  }
}

// LocalRequestClient sends twilio-node's requests to this gateway's REST
// API: only the path and query of https://{product}.twilio.com/... are kept.
let sharedClient; // one keep-alive connection pool for every request
function localRequestClient(twilio) {
  if (sharedClient) return sharedClient;
  const inner = new twilio.RequestClient();
  return sharedClient = {
    request(opts) {
      const u = new URL(opts.uri);
      return inner.request(Object.assign({}, opts, { uri: apiBase + u.pathname + u.search }));
    },
  };
}

function init(msg) {
  apiBase = msg.apiBase.replace(/\/$/, '');
  for (const k of msg.contextKeys || []) variables[k] = process.env[k];
  // Modules the project does not bring (twilio) come from the runtime's.
  process.env.NODE_PATH = msg.runtimeModules;
  Module._initPaths();
  delete process.env.NODE_PATH;
  const projectRequire = Module.createRequire(msg.build + '/package.json');
  Twilio = projectRequire('twilio');
  Twilio.Response = TwilioResponse;
  for (const f of msg.functions || []) {
    functions[f.path.replace(/^\//, '')] = { path: f.file };
    byPath.set(f.path, f.file);
  }
  for (const a of msg.assets || []) {
    if (a.visibility !== 'private') continue;
    privateAssets[a.path] = { path: a.file, open: () => fs.readFileSync(a.file, 'utf8') };
  }
  global.Twilio = Twilio;
  global.Response = TwilioResponse;
  global.Functions = functions;
  global.Runtime = {
    getFunctions: () => functions,
    getAssets: () => privateAssets,
    getSync: () => { throw new Error('Runtime.getSync: Sync is not supported by Voxgate'); },
  };
  if (variables.ACCOUNT_SID && variables.AUTH_TOKEN) {
    global.twilioClient = Twilio(variables.ACCOUNT_SID, variables.AUTH_TOKEN, { lazyLoading: true, httpClient: localRequestClient(Twilio) });
  }
  // Load every function now, so the first request finds it compiled (a
  // module that fails to load fails its requests with that error later).
  for (const f of msg.functions || []) {
    try { require(f.file); } catch (e) { send({ t: 'log', id: null, level: 'warn', msg: `loading ${f.path} failed: ${e && e.message}` }); }
  }
  send({ t: 'ready', twilio: Twilio.version || null });
}

function makeContext(c) {
  const context = Object.assign({}, variables, c);
  context.getTwilioClient = (opts = {}) => {
    if (!context.ACCOUNT_SID || !context.AUTH_TOKEN) {
      throw new Error('getTwilioClient: the service does not include credentials (include_credentials is false)');
    }
    return Twilio(context.ACCOUNT_SID, context.AUTH_TOKEN, Object.assign({ lazyLoading: true, httpClient: localRequestClient(Twilio) }, opts));
  };
  return context;
}

const isTwiml = (p) => p && typeof p === 'object' && p.constructor &&
  ['VoiceResponse', 'MessagingResponse', 'FaxResponse'].includes(p.constructor.name) && typeof p.toString === 'function';

// toHTTP turns a callback's arguments into the response (Twilio's table).
function toHTTP(err, payload) {
  if (err) {
    const body = err instanceof Error ? JSON.stringify({ message: err.message, name: err.name, stack: err.stack }) : String(err);
    const type = err instanceof Error ? 'application/json; charset=utf-8' : 'text/html; charset=utf-8';
    return { status: 500, headers: { 'Content-Type': [type] }, body: Buffer.from(body) };
  }
  if (payload === undefined || payload === null) return { status: 200, headers: {}, body: Buffer.alloc(0) };
  if (payload instanceof TwilioResponse || (payload.constructor && payload.constructor.name === 'Response' && 'statusCode' in payload && 'headers' in payload)) {
    const headers = {};
    let type = false;
    for (const [k, v] of Object.entries(payload.headers || {})) {
      const values = [].concat(v).map(String);
      if (values.length === 0) continue;
      if (k.toLowerCase() === 'content-type') type = true;
      headers[k] = values;
    }
    let body = payload.body;
    if (body === null || body === undefined) body = Buffer.alloc(0);
    else if (Buffer.isBuffer(body)) { if (!type) headers['Content-Type'] = ['application/octet-stream']; }
    else if (typeof body === 'object') {
      body = Buffer.from(JSON.stringify(body));
      if (!type) headers['Content-Type'] = ['application/json; charset=utf-8'];
    } else {
      body = Buffer.from(String(body));
      if (!type) headers['Content-Type'] = ['text/html; charset=utf-8'];
    }
    return { status: payload.statusCode || 200, headers, body };
  }
  if (isTwiml(payload)) return { status: 200, headers: { 'Content-Type': ['text/xml; charset=utf-8'] }, body: Buffer.from(payload.toString()) };
  if (typeof payload === 'string') return { status: 200, headers: { 'Content-Type': ['text/plain; charset=utf-8'] }, body: Buffer.from(payload) };
  if (Buffer.isBuffer(payload)) return { status: 200, headers: { 'Content-Type': ['application/octet-stream'] }, body: payload };
  return { status: 200, headers: { 'Content-Type': ['application/json; charset=utf-8'] }, body: Buffer.from(JSON.stringify(payload)) };
}

const pending = new Map(); // request id → finish(err) for uncaught errors
const MAX_RESPONSE = 6 << 20; // as Twilio's (Lambda's) response limit

function handle(msg) {
  const { id } = msg;
  const state = { id, done: false };
  const finish = (err, payload) => {
    if (state.done || !pending.has(id)) return;
    state.done = true;
    pending.delete(id);
    if (err) console.error(err instanceof Error ? (err.stack || err.message) : String(err));
    let r;
    try { r = toHTTP(err, payload); } catch (e) { r = toHTTP(e); }
    if (r.body.length > MAX_RESPONSE) {
      console.error(`the response is ${r.body.length} bytes, larger than the 6 MB limit`);
      r = toHTTP(new Error('Function response larger than 6 MB'));
    }
    send({ t: 'res', id, status: r.status, headers: r.headers, body: r.body.toString('base64') });
  };
  pending.set(id, finish);
  als.run(state, () => {
    try {
      const file = byPath.get(msg.path);
      if (!file) throw new Error(`no function at ${msg.path}`);
      const mod = require(file);
      if (typeof mod.handler !== 'function') throw new Error(`Could not find a "handler" function in ${msg.path}`);
      const r = mod.handler(makeContext(msg.ctx), msg.event, (err, payload) => finish(err, payload));
      if (r && typeof r.then === 'function') r.then(undefined, (e) => finish(e || new Error('handler rejected')));
    } catch (e) {
      finish(e);
    }
  });
}

// An error escaping a function fails that function's request when it can
// be told which one it was; the process keeps serving the others.
function escaped(err) {
  const s = als.getStore();
  const finish = s && pending.get(s.id);
  if (finish) finish(err);
  else send({ t: 'log', id: null, level: 'error', msg: 'uncaught error outside a request: ' + (err && err.stack || err) });
}
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

let buf = '';
const input = new net.Socket({ fd: 3, readable: true, writable: false });
input.setEncoding('utf8');
input.on('data', (chunk) => {
  buf += chunk;
  let nl;
  while ((nl = buf.indexOf('\n')) >= 0) {
    const line = buf.slice(0, nl);
    buf = buf.slice(nl + 1);
    if (!line) continue;
    const msg = JSON.parse(line);
    if (msg.t === 'req') handle(msg);
    else if (msg.t === 'ping') send({ t: 'pong' });
    else if (msg.t === 'cancel') pending.delete(msg.id); // timed out: a late callback is dropped
    else if (msg.t === 'init') {
      try { init(msg); } catch (e) { send({ t: 'log', id: null, level: 'error', msg: 'init: ' + (e.stack || e) }); process.exit(70); }
    }
  }
});
input.on('end', () => process.exit(0));
