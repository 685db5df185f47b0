// Places a call through this gateway's REST API with the twilio client.
exports.handler = async (context, event, callback) => {
  const client = context.getTwilioClient();
  try {
    const call = await client.calls.create({ to: event.To, from: event.From || '+15550009999', url: event.Url });
    console.log('placed call', call.sid);
    return callback(null, { sid: call.sid, status: call.status });
  } catch (e) {
    return callback(null, { error: e.message, status: e.status, code: e.code });
  }
};
