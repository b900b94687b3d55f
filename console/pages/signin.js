// Sign in: the local stack's dev users, or the clinic's Cognito hosted UI when deployed.

import * as auth from '../lib/auth.js';
import { button, field, h, submitting } from '../lib/dom.js';

export default function render(view, ctx) {
  const problem = sessionStorage.getItem('sb.signinProblem');
  sessionStorage.removeItem('sb.signinProblem');
  const notice = problem ? h('p', { class: 'error', role: 'alert' }, problem) : null;

  async function enter(email, admin, form) {
    const done = await submitting(form, async () => { await auth.signInLocal(ctx.config, email, admin); return true; });
    if (!done) return;
    if (await ctx.signedIn()) ctx.navigate('', { replace: true });
    else ctx.navigate('signin', { replace: true });
  }

  if (ctx.config.auth.mode === 'cognito') {
    view.append(h('div', { class: 'signin panel' },
      h('h1', {}, 'Sign in to Switchboard'), notice,
      h('p', {}, 'Use your clinic account. You will come back here once signed in.'),
      button('Sign in', () => auth.startCognito(ctx.config), { class: 'primary' })));
    return null;
  }

  const users = auth.devUsers();
  const pick = h('form', { class: 'stack', 'aria-labelledby': 'dev-users' });
  const list = h('ul', { class: 'dev-users' }, users.map((user) => h('li', {},
    button(`Sign in as ${user.email}${user.admin ? ' (enterprise admin)' : ''}`, () => enter(user.email, user.admin, pick),
      { class: user.email === 'dev@clinic.test' ? 'primary' : '' }))));
  pick.append(h('h2', { id: 'dev-users' }, 'Dev users'), list);

  const email = field({ label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'off',
    hint: 'A manager or staff user must have been added on the Users page; their role comes from there.' });
  const admin = field({ label: 'Enterprise admin (Cognito group “admin”)', name: 'admin', type: 'checkbox' });
  const other = h('form', { class: 'stack', 'aria-labelledby': 'other-user' },
    h('h2', { id: 'other-user' }, 'Another user'), email, admin,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Sign in')));
  other.addEventListener('submit', (event) => {
    event.preventDefault();
    const address = email.querySelector('input').value.trim().toLowerCase();
    if (address) enter(address, admin.querySelector('input').checked, other);
  });

  view.append(h('div', { class: 'signin' },
    h('h1', {}, 'Sign in (local stack)'), notice,
    h('p', { class: 'hint' }, 'Locally, the gateway signs tokens for any user; deployed, the console signs in with Cognito.'),
    h('div', { class: 'panel' }, pick), h('div', { class: 'panel' }, other)));
  return null;
}
