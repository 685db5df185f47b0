// callback(err): a 500.
exports.handler = (context, event, callback) => callback(new Error('the database is down'));
