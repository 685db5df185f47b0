// Answers more than the 6 MB a response may carry.
exports.handler = (context, event, callback) => callback(null, 'x'.repeat(7 << 20));
