// The Twilio global is the project's own twilio when it lists one.
exports.handler = (context, event, callback) => {
  const twiml = new Twilio.twiml.VoiceResponse();
  twiml.say('pinned');
  callback(null, {
    version: require('twilio/package.json').version,
    global: Twilio === require('twilio'),
    twiml: twiml.toString(),
  });
};
