// Sign-in: the local stack's dev tokens (`/local/token`), or Cognito's hosted UI (authorization code + PKCE).
// The ID token lives in sessionStorage only: closing the tab signs out.

const TOKEN = 'sb.token';
const VERIFIER = 'sb.pkce.verifier';
const STATE = 'sb.pkce.state';
const DEV_USERS = 'sb.devUsers';

function decodePart(part) {
  const padded = part.replace(/-/g, '+').replace(/_/g, '/').padEnd(Math.ceil(part.length / 4) * 4, '=');
  const bytes = Uint8Array.from(atob(padded), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

export function claimsOf(token) {
  try { return decodePart(token.split('.')[1]); } catch { return null; }
}

export function currentToken() {
  const token = sessionStorage.getItem(TOKEN);
  const claims = token ? claimsOf(token) : null;
  if (!claims || (claims.exp && claims.exp * 1000 < Date.now() + 30_000)) {
    sessionStorage.removeItem(TOKEN);
    return null;
  }
  return token;
}

export function currentClaims() {
  const token = currentToken();
  return token ? claimsOf(token) : null;
}

function consoleUrl() {
  return new URL('./', document.baseURI).href;
}

export function devUsers() {
  const remembered = JSON.parse(localStorage.getItem(DEV_USERS) || '[]');
  const all = [{ email: 'dev@clinic.test', admin: true }, ...remembered];
  return all.filter((u, i) => all.findIndex((x) => x.email === u.email) === i);
}

export async function signInLocal(config, email, admin) {
  const query = new URLSearchParams({ email, groups: admin ? 'admin' : '' });
  const answer = await fetch(`${config.auth.token_url}?${query}`);
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok || !body.token) throw Object.assign(new Error(body.message || 'The local stack gave no token.'), { errors: [] });
  sessionStorage.setItem(TOKEN, body.token);
  if (email !== 'dev@clinic.test') {
    const remembered = JSON.parse(localStorage.getItem(DEV_USERS) || '[]').filter((u) => u.email !== email);
    localStorage.setItem(DEV_USERS, JSON.stringify([{ email, admin }, ...remembered].slice(0, 8)));
  }
}

function base64url(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function randomString(size = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(size)));
}

export async function startCognito(config) {
  const verifier = randomString(48);
  const state = randomString(16);
  sessionStorage.setItem(VERIFIER, verifier);
  sessionStorage.setItem(STATE, state);
  const challenge = base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
  const query = new URLSearchParams({
    response_type: 'code', client_id: config.auth.client_id, redirect_uri: consoleUrl(),
    scope: 'openid email profile', state, code_challenge_method: 'S256', code_challenge: challenge,
  });
  location.assign(`${config.auth.domain}/oauth2/authorize?${query}`);
}

// Back from the hosted UI with ?code=&state=: exchange the code for tokens. Returns true when signed in.
export async function finishCognito(config) {
  const url = new URL(location.href);
  const code = url.searchParams.get('code');
  if (!code) return false;
  const state = url.searchParams.get('state');
  const verifier = sessionStorage.getItem(VERIFIER);
  const expected = sessionStorage.getItem(STATE);
  sessionStorage.removeItem(VERIFIER);
  sessionStorage.removeItem(STATE);
  history.replaceState(null, '', consoleUrl());
  if (!verifier || !state || state !== expected) throw new Error('The sign-in answer did not match this browser tab; sign in again.');
  const answer = await fetch(`${config.auth.domain}/oauth2/token`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', client_id: config.auth.client_id, code, redirect_uri: consoleUrl(),
      code_verifier: verifier,
    }),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok || !body.id_token) throw new Error(body.error_description || body.error || 'Sign-in failed.');
  sessionStorage.setItem(TOKEN, body.id_token);
  return true;
}

export function signOut(config) {
  sessionStorage.clear();
  if (config.auth.mode === 'cognito') {
    const query = new URLSearchParams({ client_id: config.auth.client_id, logout_uri: consoleUrl() });
    location.assign(`${config.auth.domain}/logout?${query}`);
    return;
  }
  location.assign(new URL('signin', document.baseURI).href);
}
