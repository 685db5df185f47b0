exports.handler = () => { throw new Error('thrown synchronously'); };
