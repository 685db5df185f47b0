// For Studio: answers JSON that a split steers on.
exports.handler = (context, event, callback) => {
  const vip = ['+15550004242'].includes(event.caller);
  callback(null, { tier: vip ? 'vip' : 'standard', caller: event.caller });
};
