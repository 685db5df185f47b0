// A private helper other functions require through Runtime.getFunctions().
exports.describe = (what) => `That was the ${what}. Goodbye.`;
exports.handler = (context, event, callback) => callback(null, 'private');
