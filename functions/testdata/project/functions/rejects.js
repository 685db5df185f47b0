// An async handler that rejects (kills Twilio's in-process emulator).
exports.handler = async () => { await new Promise((r) => setTimeout(r, 5)); throw new Error('async failure'); };
