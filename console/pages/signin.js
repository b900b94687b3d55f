// Sign in: the local stack's own user pool (password and its challenges), or the clinic's Cognito hosted UI when deployed.

import * as auth from '../lib/auth.js';
import { button, field, h, replace, submitting } from '../lib/dom.js';

export default function render(view, ctx) {
  const problem = sessionStorage.getItem('sb.signinProblem');
  sessionStorage.removeItem('sb.signinProblem');
  const notice = problem ? h('p', { class: 'error', role: 'alert' }, problem) : null;

  async function finish(form, action) {
    const outcome = await submitting(form, action);
    if (outcome === true) {
      if (await ctx.signedIn()) ctx.navigate('', { replace: true });
      else ctx.navigate('signin', { replace: true });
    } else if (outcome) {
      showChallenge(outcome);
    }
  }

  if (ctx.config.auth.mode === 'cognito') {
    view.append(h('div', { class: 'signin panel' },
      h('h1', {}, 'Sign in to Switchboard'), notice,
      h('p', {}, 'Use your clinic account. You will come back here once signed in.'),
      button('Sign in', () => auth.startCognito(ctx.config), { class: 'primary' })));
    return null;
  }

  const panel = h('div', { class: 'panel' });
  const email = field({ label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'username' });
  const password = field({ label: 'Password', name: 'password', type: 'password', required: true,
    autocomplete: 'current-password' });
  const form = h('form', { class: 'stack', 'aria-labelledby': 'signin-title' },
    h('div', { class: 'form-error', role: 'alert', hidden: true }), email, password,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const address = email.querySelector('input').value.trim().toLowerCase();
    finish(form, () => auth.signInWithPassword(ctx.config, address, password.querySelector('input').value));
  });
  panel.append(form);

  function showChallenge(challenge) {
    if (challenge.name === 'MFA_SETUP') { showAuthenticatorSetup(challenge); return; }
    const newPassword = challenge.name === 'NEW_PASSWORD_REQUIRED';
    if (!newPassword && challenge.name !== 'SOFTWARE_TOKEN_MFA') {
      sessionStorage.setItem('sb.signinProblem', `This sign-in asks for ${challenge.name}, which this page cannot answer.`);
      ctx.navigate('signin', { replace: true });
      return;
    }
    const answer = newPassword
      ? field({ label: 'New password', name: 'new_password', type: 'password', required: true, autocomplete: 'new-password',
        hint: 'At least 12 characters, with upper- and lower-case letters and a number.' })
      : codeField();
    const next = challengeForm(newPassword ? 'Choose your password' : 'Enter your code', [answer]);
    next.addEventListener('submit', (event) => {
      event.preventDefault();
      finish(next, () => auth.answerChallenge(ctx.config, challenge, answer.querySelector('input').value.trim()));
    });
    replace(panel, next);
    answer.querySelector('input').focus();
  }

  function codeField() {
    return field({ label: 'Code from your authenticator app', name: 'code', required: true, autocomplete: 'one-time-code',
      inputmode: 'numeric' });
  }

  function challengeForm(title, parts) {
    return h('form', { class: 'stack', 'aria-labelledby': 'challenge-title' },
      h('h2', { id: 'challenge-title' }, title), h('div', { class: 'form-error', role: 'alert', hidden: true }), ...parts,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Continue')));
  }

  async function showAuthenticatorSetup(challenge) {
    const setup = await auth.startAuthenticatorSetup(ctx.config, challenge);
    const code = codeField();
    const uri = `otpauth://totp/Switchboard:${encodeURIComponent(setup.email)}?secret=${setup.secret}&issuer=Switchboard`;
    const next = challengeForm('Set up your authenticator app', [
      h('p', {}, 'Every sign-in asks for a code from an authenticator app. Add this key to yours, then enter the code it shows.'),
      h('p', {}, 'Key: ', h('code', { class: 'totp-secret' }, setup.secret)),
      h('p', { class: 'hint' }, uri), code]);
    next.addEventListener('submit', (event) => {
      event.preventDefault();
      finish(next, () => auth.finishAuthenticatorSetup(ctx.config, setup, code.querySelector('input').value.trim()));
    });
    replace(panel, next);
    code.querySelector('input').focus();
  }

  view.append(h('div', { class: 'signin' },
    h('h1', { id: 'signin-title' }, 'Sign in (local stack)'), notice,
    h('p', { class: 'hint' }, 'Locally you sign in to the stack\'s own user pool. The enterprise admin is dev@clinic.test, ',
      'with the password in .local/auth/dev-password (make run prints where). Someone a practice adds signs in with ',
      'the temporary password of their invitation, listed at ', h('a', { href: '../local/invitations' }, '/local/invitations'),
      ', then chooses their own.'),
    panel));
  return null;
}
