// Talks to the console's endpoints and, through /console/api/rest, to the
// gateway's REST API with the signed-in session's rights.
let csrf = '';
let accountSid = '';

export const account = () => accountSid;

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `HTTP ${status}`);
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body, contentType) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrf;
  if (contentType) headers['Content-Type'] = contentType;
  const res = await fetch(path, { method, headers, body, credentials: 'same-origin' });
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = { message: text }; }
  if (!res.ok) throw new ApiError(res.status, data);
  return data;
}

export async function session() {
  const s = await call('GET', '/console/api/session');
  csrf = s.csrf_token; accountSid = s.account_sid;
  return s;
}

export async function signIn(sid, token) {
  const body = new URLSearchParams({ AccountSid: sid, AuthToken: token });
  const s = await call('POST', '/console/login', body, 'application/x-www-form-urlencoded');
  csrf = s.csrf_token; accountSid = s.account_sid;
  return s;
}

export const signOut = () => call('POST', '/console/api/logout');
export const get = (path) => call('GET', `/console/api${path}`);

// rest is a REST API path: "/2010-04-01/Accounts/AC…/Calls.json", "/v2/Flows".
export const restPath = (path) => `/console/api/rest${path}`;
export const rest = (path) => call('GET', restPath(path));
export const restForm = (method, path, params) =>
  call(method, restPath(path), new URLSearchParams(params), 'application/x-www-form-urlencoded');
export const accountPath = (p) => `/2010-04-01/Accounts/${accountSid}${p}`;

export const validateFlow = (definition) =>
  call('POST', '/console/api/flows/validate', JSON.stringify(definition), 'application/json');
