// The console's only way to the gateway: fetch with the admin token from sessionStorage (this tab
// only; no cookie is ever set, so other sites cannot make the browser act with it).
const KEY = 'hv-gateway.admin-token';

/** `#token=…` (scripted use): keep it for the tab and wipe it from the address bar and history at once. */
export function takeTokenFromFragment() {
  const params = new URLSearchParams(location.hash.slice(1));
  const token = params.get('token');
  if (location.hash) history.replaceState(null, '', location.pathname + location.search);
  if (token) sessionStorage.setItem(KEY, token.trim());
}

export const getToken = () => sessionStorage.getItem(KEY);
export const setToken = (token) => sessionStorage.setItem(KEY, token.trim());
export const clearToken = () => sessionStorage.removeItem(KEY);

export class ApiError extends Error {
  /** status 0 = the gateway did not answer */
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// API paths are relative to the page's parent, so a proxy prefix in front of /console still works
const root = () => new URL('./', location.href);

export async function api(method, path, { headers = {}, timeoutMs = 15_000 } = {}) {
  let res;
  try {
    res = await fetch(new URL(path, root()), {
      method,
      headers: { authorization: `Bearer ${getToken() ?? ''}`, accept: 'application/json', ...headers },
      cache: 'no-store',
      credentials: 'omit',
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    throw new ApiError(0, 'UNREACHABLE', `the gateway did not answer (${err instanceof Error ? err.message : String(err)})`);
  }
  const text = await res.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!res.ok) throw new ApiError(res.status, body?.code ?? `HTTP_${res.status}`, body?.message ?? text.slice(0, 200));
  return { status: res.status, body };
}
