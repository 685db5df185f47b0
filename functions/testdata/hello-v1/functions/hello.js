exports.handler = (context, event, callback) => callback(null, `v1 ${context.WHO || ''}`.trim());
