// A voice IVR's entry point: a <Gather> whose action is a relative URL.
exports.handler = function (context, event, callback) {
  const twiml = new Twilio.twiml.VoiceResponse();
  const gather = twiml.gather({ numDigits: 1, action: 'choice', method: 'POST', timeout: 5 });
  gather.say(`${context.GREETING}. Press 1 for a tone, 2 for support.`);
  twiml.redirect('menu');
  callback(null, twiml);
};
