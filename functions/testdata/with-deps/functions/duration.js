// Uses an npm dependency of the project, installed at build time.
const ms = require('ms');
exports.handler = (context, event, callback) => callback(null, { ms: ms(event.d || '2 days') });
