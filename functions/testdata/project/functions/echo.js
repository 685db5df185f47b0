// Returns what the function saw: event, context keys and globals.
exports.handler = (context, event, callback) => {
  const data = JSON.parse(Runtime.getAssets()['/data.json'].open());
  callback(null, {
    event,
    context: {
      DOMAIN_NAME: context.DOMAIN_NAME, PATH: context.PATH, SERVICE_SID: context.SERVICE_SID,
      ENVIRONMENT_SID: context.ENVIRONMENT_SID, ACCOUNT_SID: context.ACCOUNT_SID, GREETING: context.GREETING,
      hasToken: typeof context.AUTH_TOKEN === 'string', hasClient: typeof context.getTwilioClient === 'function',
    },
    env: { GREETING: process.env.GREETING, SUPPORT_NUMBER: process.env.SUPPORT_NUMBER },
    functions: Object.keys(Runtime.getFunctions()).sort(),
    assets: Object.keys(Runtime.getAssets()).sort(),
    data,
  });
};
