// Sign-in against Cognito: locally, the local user pool's own sign-in API (password, then the challenges it
// sets: a new password for an invited person, an authenticator code); deployed, the hosted UI (authorization
// code + PKCE). The ID token lives in sessionStorage only: closing the tab signs out.

const TOKEN = 'sb.token';
const VERIFIER = 'sb.pkce.verifier';
const STATE = 'sb.pkce.state';

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

async function cognito(config, operation, payload) {
  const answer = await fetch(config.auth.cognito_url, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-amz-json-1.1', 'X-Amz-Target': `AWSCognitoIdentityProviderService.${operation}` },
    body: JSON.stringify(payload),
  });
  const body = await answer.json().catch(() => ({}));
  if (!answer.ok) {
    const wrong = body.__type === 'NotAuthorizedException' || body.__type === 'UserNotFoundException';
    throw Object.assign(new Error(wrong ? (body.message || 'Incorrect email or password.') : (body.message || 'Sign-in failed.')),
      { errors: [] });
  }
  return body;
}

// The answer of a sign-in step: signed in (true), or the next challenge ({ name, session, email }).
function step(body, email) {
  if (body.AuthenticationResult) {
    sessionStorage.setItem(TOKEN, body.AuthenticationResult.IdToken);
    return true;
  }
  return { name: body.ChallengeName, session: body.Session, email };
}

export async function signInWithPassword(config, email, password) {
  const body = await cognito(config, 'InitiateAuth', {
    AuthFlow: 'USER_PASSWORD_AUTH', AuthParameters: { USERNAME: email, PASSWORD: password } });
  return step(body, email);
}

// `answer`: the new password (NEW_PASSWORD_REQUIRED) or the authenticator's code (SOFTWARE_TOKEN_MFA).
export async function answerChallenge(config, challenge, answer) {
  const key = challenge.name === 'NEW_PASSWORD_REQUIRED' ? 'NEW_PASSWORD' : 'SOFTWARE_TOKEN_MFA_CODE';
  const body = await cognito(config, 'RespondToAuthChallenge', {
    ChallengeName: challenge.name, Session: challenge.session,
    ChallengeResponses: { USERNAME: challenge.email, [key]: answer } });
  return step(body, challenge.email);
}

// MFA_SETUP: the pool gives a secret for the person's authenticator app ({ secret, session, email }).
export async function startAuthenticatorSetup(config, challenge) {
  const body = await cognito(config, 'AssociateSoftwareToken', { Session: challenge.session });
  return { secret: body.SecretCode, session: body.Session, email: challenge.email };
}

export async function finishAuthenticatorSetup(config, setup, code) {
  const verified = await cognito(config, 'VerifySoftwareToken', {
    Session: setup.session, UserCode: code, FriendlyDeviceName: 'Switchboard' });
  const body = await cognito(config, 'RespondToAuthChallenge', {
    ChallengeName: 'MFA_SETUP', Session: verified.Session, ChallengeResponses: { USERNAME: setup.email } });
  return step(body, setup.email);
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
