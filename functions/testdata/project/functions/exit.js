exports.handler = () => process.exit(3);
