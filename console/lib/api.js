// The admin API (same origin: `<stage>/api/`, next to `<stage>/console/`) and the local carrier sandbox.

import { currentToken } from './auth.js';

export class ApiError extends Error {
  constructor(status, body) {
    super((body && body.message) || `The server answered ${status}.`);
    this.status = status;
    this.errors = (body && Array.isArray(body.errors)) ? body.errors : [];
    this.body = body;
  }
}

let whenSignedOut = () => {};
export function onSignedOut(handler) { whenSignedOut = handler; }

export function apiUrl(path) {
  return new URL(`../api/${path.replace(/^\//, '')}`, document.baseURI).href;
}

// Path segments, each encoded: seg('practices', id, 'lines') -> 'practices/<id>/lines'.
export const seg = (...parts) => parts.map((p) => encodeURIComponent(p)).join('/');

async function parse(answer) {
  const text = await answer.text();
  if (!text) return null;
  try { return JSON.parse(text); } catch { return { message: text.slice(0, 200) }; }
}

export async function api(method, path, body) {
  const headers = { Accept: 'application/json' };
  const token = currentToken();
  if (token) headers.Authorization = token; // the raw ID token: what API Gateway's Cognito authorizer reads
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let answer;
  try {
    answer = await fetch(apiUrl(path), { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached; check your connection and try again.' });
  }
  const document = await parse(answer);
  if (answer.status === 401) {
    whenSignedOut();
    throw new ApiError(401, { message: 'Your sign-in has expired; sign in again.' });
  }
  if (!answer.ok) throw new ApiError(answer.status, document);
  return document;
}

export const get = (path) => api('GET', path);
export const post = (path, body = {}) => api('POST', path, body);
export const patch = (path, body) => api('PATCH', path, body);
export const put = (path, body) => api('PUT', path, body);
export const del = (path) => api('DELETE', path);

// The local carrier sandbox's control and phone-simulator API (config.sandbox_url; local stack only).
export async function sandbox(config, method, path, body) {
  if (!config.sandbox_url) throw new ApiError(0, { message: 'No carrier sandbox here (local stack only).' });
  let answer;
  try {
    answer = await fetch(`${config.sandbox_url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'Content-Type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch {
    throw new ApiError(0, { message: 'The carrier sandbox could not be reached (is the local stack running?).' });
  }
  const document = await parse(answer);
  if (!answer.ok && answer.status !== 502) throw new ApiError(answer.status, { message: (document && (document.error || document.message)) || `The sandbox answered ${answer.status}.` });
  return document;
}

// A file the API answers (a CSV export), saved under `filename` as the browser saves downloads.
export async function download(path, filename) {
  const token = currentToken();
  let answer;
  try {
    answer = await fetch(apiUrl(path), { headers: token ? { Authorization: token } : {} });
  } catch {
    throw new ApiError(0, { message: 'The server could not be reached; check your connection and try again.' });
  }
  if (answer.status === 401) {
    whenSignedOut();
    throw new ApiError(401, { message: 'Your sign-in has expired; sign in again.' });
  }
  if (!answer.ok) throw new ApiError(answer.status, await parse(answer));
  const link = document.createElement('a');
  link.href = URL.createObjectURL(await answer.blob());
  link.download = filename;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 60000);
}
