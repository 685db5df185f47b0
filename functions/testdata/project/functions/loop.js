// Blocks its worker's event loop forever.
exports.handler = () => { for (;;) {} };
