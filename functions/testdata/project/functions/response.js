// Twilio.Response: status, multi-valued headers, cookies, JSON body.
exports.handler = (context, event, callback) => {
  const response = new Twilio.Response();
  response.setStatusCode(201);
  response.appendHeader('X-Multi', 'a');
  response.appendHeader('X-Multi', 'b');
  response.appendHeader('Content-Type', 'application/json');
  response.setCookie('session', 'abc', ['Path=/', 'HttpOnly']);
  response.setCookie('gone', 'x');
  response.removeCookie('gone');
  response.setBody({ ok: true, name: event.name });
  callback(null, response);
};
