'use strict';
// Deploys a function through the Serverless API with twilio-node, as a
// customer's deploy script would: only the base URL differs (a custom
// httpClient keeps the path of https://serverless.twilio.com/v1/...).
// Content upload is raw multipart HTTP, as Twilio's toolkit does it (the
// SDK has no method for it). env: BASE, SID, TOKEN. Prints JSON.
const twilio = require('twilio');

const { BASE, SID, TOKEN } = process.env;

class LocalClient {
  constructor() { this.inner = new twilio.RequestClient(); }
  request(opts) {
    const u = new URL(opts.uri);
    opts.uri = BASE + u.pathname + u.search;
    return this.inner.request(opts);
  }
}

async function upload(url, path, visibility, content, type) {
  const form = new FormData();
  form.append('Path', path);
  form.append('Visibility', visibility);
  form.append('Content', new Blob([content], { type }), path.slice(1));
  const res = await fetch(BASE + new URL(url).pathname, {
    method: 'POST', body: form,
    headers: { Authorization: 'Basic ' + Buffer.from(`${SID}:${TOKEN}`).toString('base64') },
  });
  if (!res.ok) throw new Error(`upload ${path}: ${res.status} ${await res.text()}`);
  return res.json();
}

async function main() {
  const client = twilio(SID, TOKEN, { httpClient: new LocalClient() });
  const sv = client.serverless.v1;
  const service = await sv.services.create({ uniqueName: 'sdk-app', friendlyName: 'Deployed with twilio-node', includeCredentials: true });
  const env = await sv.services(service.sid).environments.create({ uniqueName: 'staging', domainSuffix: 'stage' });
  const fn = await sv.services(service.sid).functions.create({ friendlyName: '/hello' });
  const fv = await upload(fn.url + '/Versions', '/hello', 'public',
    "exports.handler = (context, event, callback) => { const r = new Twilio.twiml.VoiceResponse(); r.say(`Hi ${context.NAME}`); callback(null, r); };",
    'application/javascript');
  const asset = await sv.services(service.sid).assets.create({ friendlyName: '/greeting.txt' });
  const av = await upload(asset.url + '/Versions', '/greeting.txt', 'public', 'hello asset', 'text/plain');
  // Dependencies as Twilio's toolkit sends them: a JSON string wrapped in quotes.
  const build = await sv.services(service.sid).builds.create({
    functionVersions: [fv.sid], assetVersions: [av.sid],
    dependencies: JSON.stringify(JSON.stringify([{ name: '@twilio/runtime-handler', version: '2.1.0' }])),
    runtime: 'node22',
  });
  let status = build.status;
  for (let i = 0; i < 100 && status === 'building'; i++) {
    await new Promise((r) => setTimeout(r, 100));
    status = (await sv.services(service.sid).builds(build.sid).buildStatus().fetch()).status;
  }
  await sv.services(service.sid).environments(env.sid).variables.create({ key: 'NAME', value: 'from the SDK' });
  const dep = await sv.services(service.sid).environments(env.sid).deployments.create({ buildSid: build.sid });
  const fetched = await sv.services(service.sid).environments(env.sid).fetch();
  const services = await sv.services.list({ pageSize: 1 });
  const fns = await sv.services(service.sid).functions.list();
  const versions = await sv.services(service.sid).functions(fn.sid).functionVersions.list();
  const content = await sv.services(service.sid).functions(fn.sid).functionVersions(fv.sid).functionVersionContent().fetch();
  const builds = await sv.services(service.sid).builds.list();
  let notFound;
  try { await sv.services('ZS00000000000000000000000000000000').fetch(); } catch (e) { notFound = { status: e.status, code: e.code }; }
  console.log(JSON.stringify({
    service: { sid: service.sid, uniqueName: service.uniqueName, includeCredentials: service.includeCredentials, links: Object.keys(service.links).sort() },
    environment: { sid: env.sid, domainSuffix: env.domainSuffix, domainName: fetched.domainName, buildSid: fetched.buildSid },
    build: { sid: build.sid, status, functionVersions: build.functionVersions.length, dependencies: build.dependencies },
    deployment: { sid: dep.sid, buildSid: dep.buildSid, environmentSid: dep.environmentSid },
    listed: { services: services.length, functions: fns.map((f) => f.friendlyName), versions: versions.map((v) => [v.path, v.visibility]), builds: builds.length },
    content: content.content.slice(0, 14),
    notFound,
  }));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
