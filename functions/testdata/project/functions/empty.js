exports.handler = (context, event, callback) => callback();
