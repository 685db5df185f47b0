// An error thrown later, outside the handler's stack.
exports.handler = (context, event, callback) => { setTimeout(() => { throw new Error('thrown from a timer'); }, 5); };
