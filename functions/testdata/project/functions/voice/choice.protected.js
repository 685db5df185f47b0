// Handles the caller's key: protected, so only signed requests reach it.
const { describe } = require(Runtime.getFunctions()['lib/util'].path);

exports.handler = (context, event, callback) => {
  const twiml = new Twilio.twiml.VoiceResponse();
  console.log(`caller ${event.From} pressed ${event.Digits}`);
  switch (event.Digits) {
    case '1':
      twiml.play(`/fn/${context.SERVICE_SID}/tone.wav`);
      twiml.say(describe('tone'));
      twiml.hangup();
      break;
    case '2':
      twiml.dial(context.SUPPORT_NUMBER);
      break;
    default:
      twiml.say('Sorry, I did not get that.');
      twiml.redirect('menu');
  }
  callback(null, twiml);
};
