exports.handler = (context, event, callback) => callback(null, `v2 ${context.WHO || ''}`.trim());
