// The console's shell: configuration, sign-in, the practice in use, navigation and the page router.

import * as alerts from './alerts.js';
import { ApiError, get, onSignedOut } from './api.js';
import * as auth from './auth.js';
import { announce, button, emptyState, h, replace } from './dom.js';

const ROUTES = [
  [/^signin$/, 'signin', 'Sign in'],
  [/^inbox$/, 'inbox', 'Inbox'],
  [/^inbox\/([^/]+)\/([^/]+)$/, 'inbox', 'Inbox'],
  [/^lines$/, 'lines', 'Phone numbers'],
  [/^lines\/([^/]+)$/, 'line', 'Line'],
  [/^workflows$/, 'workflows', 'Workflows'],
  [/^settings$/, 'settings', 'Practice settings'],
  [/^practices\/new$/, 'practice-new', 'Open a practice'],
  [/^users$/, 'users', 'Users'],
  [/^audit$/, 'audit', 'Audit'],
  [/^integrations$/, 'integrations', 'Integrations'],
  [/^patients$/, 'patients', 'Patients'],
  [/^simulator$/, 'simulator', 'Phone simulator'],
];
const NEEDS_PRACTICE = new Set(['inbox', 'lines', 'line', 'workflows', 'settings', 'users', 'audit', 'integrations',
  'patients']);
const MANAGERS_ONLY = new Set(['settings', 'users', 'audit', 'integrations', 'patients', 'practice-new']);

const view = document.getElementById('view');
const ctx = {
  config: null, me: null, practices: [], practiceId: null,
  get isAdmin() { return Boolean(this.me && this.me.is_admin); },
  // The signed-in person's place in the chosen practice (one person may serve several practices).
  get membership() {
    return (this.me && this.me.memberships.find((m) => m.practice_id === this.practiceId)) || null;
  },
  get role() { return this.isAdmin ? 'admin' : (this.membership ? this.membership.role : null); },
  get isManager() { return this.role === 'admin' || this.role === 'manager'; },
  get practice() { return this.practices.find((p) => p.practice_id === this.practiceId) || null; },
  navigate, refreshPractices, title: setTitle, pageDisposed: null,
};
let dispose = null;

function basePath() {
  return new URL(document.baseURI).pathname;
}

// The route is what follows `/console/`: the page may have been loaded without the stage prefix that the
// <base href> carries (the local gateway serves both), so look for the folder rather than the whole base.
function currentRoute() {
  const at = location.pathname.indexOf('/console/');
  return at < 0 ? '' : location.pathname.slice(at + '/console/'.length).replace(/\/+$/, '');
}

export function navigate(path, { replace: replaceEntry = false } = {}) {
  const url = new URL(path, document.baseURI).href;
  if (replaceEntry) history.replaceState(null, '', url); else history.pushState(null, '', url);
  render();
}

let pageTitle = 'Switchboard';
function setTitle(text) {
  pageTitle = text ? `${text} · Switchboard` : 'Switchboard';
  drawTitle();
}

// The tab says how many open conversations have unread texts, on any page.
function drawTitle() {
  const unread = alerts.unreadCount();
  document.title = unread ? `(${unread}) ${pageTitle}` : pageTitle;
}

document.addEventListener('click', (event) => {
  const link = event.target.closest('a[href]');
  if (!link || event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey
      || event.altKey || link.target || link.hasAttribute('download')) return;
  const url = new URL(link.href);
  if (url.origin !== location.origin || !url.pathname.startsWith(basePath()) || url.pathname.includes('.')) return;
  event.preventDefault();
  if (url.href !== location.href) navigate(url.href);
});
window.addEventListener('popstate', () => render());

async function loadConfig() {
  const answer = await fetch(new URL('config.json', document.baseURI), { cache: 'no-store' });
  if (!answer.ok) throw new Error(`config.json answered ${answer.status}`);
  return answer.json();
}

async function refreshPractices() {
  ctx.practices = await get('practices');
  const stored = sessionStorage.getItem('sb.practice');
  const known = (id) => ctx.practices.some((p) => p.practice_id === id);
  ctx.practiceId = (known(stored) && stored) || (ctx.practices[0] && ctx.practices[0].practice_id) || null;
  renderShell();
}

function choosePractice(id) {
  ctx.practiceId = id;
  sessionStorage.setItem('sb.practice', id);
  renderShell();
  const route = currentRoute();
  navigate(route.startsWith('lines/') || route.startsWith('inbox/') ? route.split('/')[0] : route || 'lines',
    { replace: true });
}

function navItems() {
  const items = [['inbox', 'Inbox'], ['lines', 'Phone numbers'], ['workflows', 'Workflows']];
  if (ctx.isManager) {
    items.push(['patients', 'Patients'], ['settings', 'Practice settings'], ['users', 'Users'],
      ['integrations', 'Integrations'], ['audit', 'Audit']);
  }
  if (ctx.config.sandbox_url) items.push(['simulator', 'Phone simulator']);
  return items;
}

function renderShell() {
  const top = document.getElementById('top');
  top.hidden = !ctx.me;
  if (!ctx.me) return;
  const route = currentRoute().split('/')[0];
  replace(document.getElementById('nav'), h('ul', {},
    navItems().map(([path, label]) => h('li', {},
      h('a', { href: path, 'aria-current': route === path || (route === 'line' && path === 'lines') ? 'page' : null }, label)))));
  const picker = document.getElementById('practice-picker');
  if (ctx.isAdmin || ctx.practices.length > 1) {
    const select = h('select', { id: 'practice-select', onchange: (e) => choosePractice(e.target.value) },
      ctx.practices.map((p) => h('option', { value: p.practice_id }, p.name)));
    select.value = ctx.practiceId || '';
    replace(picker, ctx.practices.length ? [h('label', { for: 'practice-select' }, 'Practice'), select] : null,
      ctx.isAdmin ? h('a', { href: 'practices/new', class: 'small' }, 'Open a practice') : null);
  } else {
    replace(picker, ctx.practice ? h('span', { class: 'practice-name' }, ctx.practice.name) : null);
  }
  replace(document.getElementById('who'),
    h('span', {}, ctx.me.email, ' ', h('span', { class: 'role' }, ctx.role || '')),
    button('Sign out', () => auth.signOut(ctx.config), { class: 'link' }));
}

async function render() {
  if (dispose) { try { dispose(); } catch { /* a page's cleanup never blocks the next */ } dispose = null; }
  let route = currentRoute();
  if (!ctx.me && route !== 'signin') { navigate('signin', { replace: true }); return; }
  if (ctx.me && (route === '' || route === 'signin')) {
    route = ctx.role === 'staff' ? 'inbox' : (ctx.practiceId || !ctx.isAdmin ? 'lines' : 'practices/new');
    history.replaceState(null, '', new URL(route, document.baseURI).href);
  }
  const found = ROUTES.map(([pattern, name, title]) => [route.match(pattern), name, title]).find(([m]) => m);
  renderShell();
  alerts.follow(ctx, { onCount: drawTitle });
  if (!found) {
    setTitle('Not found');
    replace(view, h('h1', {}, 'Page not found'), h('p', {}, h('a', { href: 'lines' }, 'Back to the phone numbers')));
    return;
  }
  const [match, name, title] = found;
  const params = match.slice(1).map((p) => decodeURIComponent(p));
  setTitle(title);
  if (NEEDS_PRACTICE.has(name) && !ctx.practiceId) {
    replace(view, h('h1', {}, title), emptyState(ctx.isAdmin ? 'No practice yet.' : 'You are not in a practice yet.'),
      ctx.isAdmin ? h('p', {}, h('a', { href: 'practices/new' }, 'Open a practice')) : null);
    return;
  }
  if (MANAGERS_ONLY.has(name) && ctx.me && !ctx.isManager) {
    replace(view, h('h1', {}, title), h('p', {}, 'Only managers may see this page.'));
    return;
  }
  replace(view, h('p', { class: 'loading' }, 'Loading…'));
  const file = name === 'practice-new' ? 'settings' : name;
  view.setAttribute('aria-busy', 'true');
  try {
    const page = await import(`../pages/${file}.js`);
    const renderer = name === 'practice-new' ? page.renderNewPractice : page.default;
    replace(view);
    dispose = (await renderer(view, ctx, params)) || null;
    announce(`${title} page`);
    const heading = view.querySelector('h1');
    if (heading && document.activeElement === document.body) { heading.tabIndex = -1; heading.focus({ preventScroll: true }); }
  } catch (error) {
    replace(view, h('h1', {}, title), h('p', { class: 'error', role: 'alert' },
      error instanceof ApiError ? error.message : `This page failed to load: ${error.message}`));
  } finally {
    view.removeAttribute('aria-busy');
  }
}

async function signedIn() {
  try {
    ctx.me = await get('me');
  } catch (error) {
    ctx.me = null;
    sessionStorage.setItem('sb.signinProblem', error.message);
    return false;
  }
  await refreshPractices();
  return true;
}

async function boot() {
  try {
    ctx.config = await loadConfig();
  } catch (error) {
    replace(view, h('h1', {}, 'Switchboard'), h('p', { class: 'error', role: 'alert' }, `The console's configuration could not be read (${error.message}).`));
    return;
  }
  onSignedOut(() => { alerts.stop(); sessionStorage.removeItem('sb.token'); ctx.me = null; navigate('signin', { replace: true }); });
  ctx.signedIn = signedIn;
  if (ctx.config.auth.mode === 'cognito') {
    try { await auth.finishCognito(ctx.config); } catch (error) { sessionStorage.setItem('sb.signinProblem', error.message); }
  }
  if (auth.currentToken()) await signedIn();
  render();
}

boot();
