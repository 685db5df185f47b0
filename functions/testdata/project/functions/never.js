// Never calls back: Twilio's 10 s limit ends it.
exports.handler = () => {};
