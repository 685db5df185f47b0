'use strict';
// Serves a Twilio Serverless project with Twilio's published local
// emulator (@twilio/runtime-handler's LocalDevelopmentServer, in-process
// mode) on a free loopback port, for the tests' differential checks and
// the benchmark. stdin: {functions, assets, env} as the Go side derived
// them; stdout: {"port": N} once listening.
const http = require('http');
const { LocalDevelopmentServer } = require('@twilio/runtime-handler/dev');

let input = '';
process.stdin.on('data', (c) => { input += c; });
process.stdin.on('end', () => {
  const project = JSON.parse(input);
  const server = new LocalDevelopmentServer(0, {
    baseDir: project.baseDir,
    env: project.env,
    url: 'http://127.0.0.1',
    detailedLogs: false,
    live: false,
    logs: false,
    legacyMode: false,
    appName: 'voxgate-oracle',
    forkProcess: false,
    enableDebugLogs: false,
    routes: { functions: project.functions, assets: project.assets },
  });
  const srv = http.createServer(server.app).listen(0, '127.0.0.1', () => {
    console.log(JSON.stringify({ port: srv.address().port }));
  });
});
