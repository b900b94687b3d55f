// Inbox: conversations of the lines you may use in views (Unassigned, Mine, All open, Snoozed, Closed), a thread
// with who owns it (claim, assign, close, reopen, snooze), and a reply box with quick responses (type !!) and a
// live character/segment counter. Polls for new messages; a colleague's reply that came in while you wrote stops
// your Send until you have read it.

import * as alerts from '../lib/alerts.js';
import { download, get, post, seg } from '../lib/api.js';
import { announce, badge, button, clearErrors, confirmDialog, emptyState, field, h, nextId, replace, showErrors, submitting } from '../lib/dom.js';
import { segmentSummary, timeElement, titleCase, when } from '../lib/format.js';

const THREAD_POLL_MS = 2500;
const SENDERS = { patient: 'Patient', workflow: 'Workflow', auto_response: 'Auto-reply', integration: 'Integration', campaign: 'Campaign', system: 'Note' };
const VIEWS = [['unassigned', 'Unassigned'], ['mine', 'Mine'], ['open', 'All open'], ['snoozed', 'Snoozed'], ['closed', 'Closed']];
const HOUR_MS = 3600 * 1000;
// A picture's link works for five minutes; the thread redraws every few seconds, so a link is kept for four and
// the picture is not fetched again on every poll.
const LINK_REUSE_MS = 4 * 60 * 1000;
const links = new Map();
const PICTURE_TYPES = 'image/jpeg,image/png,image/gif';
const MAX_PICTURE_BYTES = 3500000;

function base64Of(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(String(reader.result).split(',', 2)[1] || '');
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

function linkFor(m, a) {
  const key = `${m.message_id}:${a.n}`;
  const known = links.get(key);
  if (known && Date.now() - known.at < LINK_REUSE_MS) return known.url;
  links.set(key, { url: a.url, at: Date.now() });
  return a.url;
}

function size(bytes) {
  return bytes >= 1024 * 1024 ? `${(bytes / 1024 / 1024).toFixed(1)} MB` : `${Math.max(1, Math.round(bytes / 1024))} KB`;
}

export function attachments(m) {
  if (!m.media || !m.media.length) return null;
  return h('ul', { class: 'attachments', 'aria-label': 'Pictures and files' }, m.media.map((a) => {
    if (a.state === 'kept' && a.url) {
      const url = linkFor(m, a);
      const label = `${a.inline ? 'Picture' : 'File'} ${a.n + 1}`;
      return h('li', {}, a.inline
        ? h('a', { href: url, target: '_blank', rel: 'noopener noreferrer', title: `Open ${label.toLowerCase()} in full` },
          h('img', { src: url, alt: m.direction === 'inbound' ? `${label} the patient sent` : `${label} sent to the patient`, loading: 'lazy' }))
        : h('a', { href: url, rel: 'noopener noreferrer' }, `Download ${label.toLowerCase()} (${a.content_type}${a.size ? `, ${size(a.size)}` : ''})`));
    }
    if (a.state === 'waiting') return h('li', { class: 'hint' }, 'A picture or file is on its way…');
    return h('li', { class: 'error' }, `A file could not be kept: ${a.reason || 'unknown reason'}`);
  }));
}

// Snooze choices, as times from now: an hour, tomorrow at 8 in the morning (the browser's time), a week.
export function snoozeChoices(now = new Date()) {
  const tomorrow = new Date(now);
  tomorrow.setDate(tomorrow.getDate() + 1);
  tomorrow.setHours(8, 0, 0, 0);
  return [['1h', 'For an hour', new Date(now.getTime() + HOUR_MS)], ['tomorrow', 'Until tomorrow 8 AM', tomorrow],
    ['week', 'For a week', new Date(now.getTime() + 7 * 24 * HOUR_MS)]];
}

export function ownerText(c) {
  return c.assignee ? `Assigned to ${c.assignee.name}` : 'Unassigned';
}

export function markers(c) {
  return [
    c.opted_out ? badge('Opted out', 'failed') : null,
    c.not_textable ? badge('Not textable', 'disabled') : null,
    !c.verified ? badge('Unverified', 'unverified') : null,
    c.mpsp ? badge('Several patients', 'mpsp') : null,
    c.opt_out_requested ? badge('May want to stop texts', 'opt-out-request') : null,
    c.state === 'closed' ? badge('Closed', 'closed') : null,
    c.state === 'snoozed' ? badge('Snoozed', 'snoozed') : null,
  ];
}

// The last text to the patient did not go: a red dot, and the reason in words (not colour alone).
export function lastTextFailed(c) {
  if (!c.last_text_failed) return null;
  return h('span', { class: 'last-failed' }, h('span', { class: 'dot', 'aria-hidden': 'true' }),
    `Last text not delivered: ${c.last_text_failed.reason}`);
}

// A text that did not go, in words: the carrier's code when it gave one, and what staff can do about it.
export function notDelivered(error) {
  const code = error.code != null ? ` (Twilio ${error.code})` : '';
  return `Not delivered — ${error.reason}${code}.${error.what_to_do ? ` ${error.what_to_do}` : ''}`;
}

export default async function render(view, ctx, params) {
  const base = seg('practices', ctx.practiceId);
  const [lineId, phone] = params;
  const [lines, quick] = await Promise.all([get(`${base}/lines`), get(`${base}/quick-responses`).catch(() => [])]);
  const lineName = (id) => { const l = lines.find((x) => x.line_id === id); return l ? l.display_name : 'a line'; };
  const filters = { line_id: sessionStorage.getItem('sb.inbox.line') || '', unread: sessionStorage.getItem('sb.inbox.unread') === '1',
    view: sessionStorage.getItem('sb.inbox.view') || 'open' };
  const list = h('ul', { class: 'conversation-list' });
  const more = h('div', {});
  const listPane = h('nav', { class: 'conversations', 'aria-label': 'Conversations' });
  const threadPane = h('section', { class: 'thread', 'aria-label': 'Conversation' });
  const timers = [];
  let conversations = [];
  let cursor = null;
  let pagesLoaded = 1;

  const lineFilter = field({ label: 'Line', name: 'line', type: 'select',
    options: [['', 'All my lines'], ...lines.filter((l) => l.status !== 'released').map((l) => [l.line_id, `${l.display_name} · ${l.number_display}`])],
    value: filters.line_id });
  const unreadFilter = field({ label: 'Unread only', name: 'unread', type: 'checkbox', value: filters.unread });
  const filterForm = h('form', { class: 'filters inline', 'aria-label': 'Filter conversations' }, lineFilter, unreadFilter);
  filterForm.addEventListener('change', () => {
    filters.line_id = filterForm.querySelector('[name="line"]').value;
    filters.unread = filterForm.querySelector('[name="unread"]').checked;
    sessionStorage.setItem('sb.inbox.line', filters.line_id);
    sessionStorage.setItem('sb.inbox.unread', filters.unread ? '1' : '0');
    loadList();
  });
  filterForm.addEventListener('submit', (e) => e.preventDefault());

  // A search lists what it finds (open or closed) in place of the view; clearing it shows the view again.
  filters.search = sessionStorage.getItem('sb.inbox.search') || '';
  const searchBox = field({ label: 'Search conversations', name: 'search', field: 'q', type: 'search', value: filters.search,
    hint: 'A name, a phone number or its last 4 digits, or words of a text', autocomplete: 'off', maxlength: '200' });
  const clearSearch = button('Clear', () => { searchBox.querySelector('input').value = ''; runSearch(''); }, { class: 'small clear-search' });
  const searchForm = h('form', { class: 'search inline', role: 'search', 'aria-label': 'Search conversations' }, searchBox,
    h('button', { type: 'submit', class: 'small' }, 'Search'), clearSearch);
  searchForm.addEventListener('submit', (e) => { e.preventDefault(); runSearch(searchForm.querySelector('input').value.trim()); });
  async function runSearch(text) {
    filters.search = text;
    sessionStorage.setItem('sb.inbox.search', text);
    clearErrors(searchForm);
    try { await loadList(); } catch (error) { conversations = []; cursor = null; drawList(); showErrors(searchForm, error); }
  }

  const viewButtons = VIEWS.map(([value, label]) => button(label, () => {
    filters.view = value;
    sessionStorage.setItem('sb.inbox.view', value);
    drawViews();
    loadList();
  }, { 'data-view': value, class: 'small view' }));
  const views = h('div', { class: 'views inline', role: 'group', 'aria-label': 'Views' }, viewButtons);
  function drawViews() {
    for (const b of viewButtons) b.setAttribute('aria-pressed', String(b.dataset.view === filters.view));
  }
  drawViews();

  const keys = h('details', { class: 'shortcuts hint' }, h('summary', {}, 'Keyboard shortcuts'),
    h('dl', {}, [['j / k or Alt+↓ / Alt+↑', 'next / previous conversation'], ['r', 'write a reply'], ['Ctrl+Enter', 'send'],
      ['a', 'assign'], ['e', 'close the conversation'], ['/', 'search']].map(([k, what]) => [h('dt', {}, h('kbd', {}, k)), h('dd', {}, what)])));
  listPane.append(searchForm, views, filterForm, list, more, keys);
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Inbox'), alertSettings()),
    h('div', { class: `inbox ${lineId ? 'has-thread' : ''}` }, listPane, threadPane));

  function query(cursorValue) {
    const q = new URLSearchParams();
    q.set('view', filters.view);
    if (filters.unread) q.set('unread', 'true');
    if (filters.line_id) q.set('line_id', filters.line_id);
    if (cursorValue) q.set('cursor', cursorValue);
    return q.toString();
  }

  function searchQuery(cursorValue) {
    const q = new URLSearchParams({ q: filters.search });
    if (cursorValue) q.set('cursor', cursorValue);
    return q.toString();
  }

  async function loadList(append = false) {
    const at = append ? cursor : null;
    views.hidden = filterForm.hidden = Boolean(filters.search);
    clearSearch.hidden = !filters.search;
    const page = await get(filters.search ? `${base}/search?${searchQuery(at)}` : `${base}/inbox?${query(at)}`);
    conversations = append ? [...conversations, ...page.conversations] : page.conversations;
    pagesLoaded = append ? pagesLoaded + 1 : 1;
    cursor = page.next_cursor;
    drawList();
  }

  function drawList() {
    if (!conversations.length) {
      const noLines = ctx.role === 'staff' && !ctx.membership.line_ids.length;
      const viewName = VIEWS.find(([value]) => value === filters.view)[1];
      replace(list, h('li', { class: 'empty' }, noLines
        ? 'No conversations: you have permission on no lines yet. Ask a manager to give you lines (Users page).'
        : filters.search ? `Nothing on your lines matches “${filters.search}”${cursor ? ' on this page' : ''}.`
          : `No conversations in ${viewName}.`));
    } else {
      replace(list, conversations.map((c) => {
        const selected = c.line_id === lineId && c.phone === phone;
        const last = c.last_message;
        return h('li', {}, h('a', {
          class: `conversation ${c.unread ? 'unread' : ''}`, href: `inbox/${encodeURIComponent(c.line_id)}/${encodeURIComponent(c.phone)}`,
          'aria-current': selected ? 'true' : null,
        },
        h('span', { class: 'who' }, c.patient_name || c.phone_display),
        c.unread ? h('span', { class: 'badge badge-unread' }, `${c.unread} unread`) : null,
        h('span', { class: 'line hint' }, `${c.patient_name ? `${c.phone_display} · ` : ''}${lineName(c.line_id)}`),
        h('span', { class: 'owner hint' }, ownerText(c)),
        last ? h('span', { class: 'snippet' }, last.direction === 'outbound' ? 'Sent: ' : '', last.body || 'a text') : null,
        lastTextFailed(c),
        h('span', { class: 'meta' }, timeElement(c.last_activity_at, h), markers(c))));
      }));
    }
    replace(more, cursor ? h('button', { type: 'button', class: 'small', onclick: () => loadList(true) },
      filters.search ? 'More results' : 'Older conversations') : null);
  }

  await loadList().catch((error) => { if (!filters.search) throw error; drawList(); showErrors(searchForm, error); });
  if (sessionStorage.getItem('sb.inbox.focusCurrent')) {
    sessionStorage.removeItem('sb.inbox.focusCurrent');
    const current = list.querySelector('a[aria-current="true"]');
    if (current) current.focus();
  }
  document.addEventListener('keydown', shortcuts);
  // New texts arrive through the console's one poll (lib/alerts.js); the first page is read again when they do.
  const unfollow = alerts.onChanges(() => { if (!gone() && pagesLoaded === 1) loadList().catch(() => {}); });

  if (lineId && phone) await openThread();
  else replace(threadPane, emptyState(conversations.length ? 'Pick a conversation.' : ''));

  return cleanUp;

  function cleanUp() { unfollow(); document.removeEventListener('keydown', shortcuts); timers.forEach((t) => clearInterval(t)); }

  // A page left before it finished loading never hands the router its cleanup: it notices it is gone itself.
  function gone() {
    if (list.isConnected) return false;
    cleanUp();
    return true;
  }

  // The inbox by keyboard alone: j / k (or Alt+↓ / Alt+↑) the next or previous conversation, r the reply box,
  // a the assignee, e close, Ctrl+Enter sends; none while typing, except Alt+arrows.
  function shortcuts(event) {
    if (gone() || event.defaultPrevented || event.ctrlKey || event.metaKey) return;
    const typing = event.target.closest && event.target.closest('input, textarea, select, [contenteditable]');
    const step = (event.altKey && event.key === 'ArrowDown') || (!typing && !event.altKey && event.key === 'j') ? 1
      : (event.altKey && event.key === 'ArrowUp') || (!typing && !event.altKey && event.key === 'k') ? -1 : 0;
    if (step) { event.preventDefault(); move(step); return; }
    if (typing || event.altKey) return;
    if (event.key === '/') { event.preventDefault(); searchForm.querySelector('input').focus(); return; }
    const target = { r: '.reply textarea', a: '.ownership select.assign', e: '.ownership button.close-conversation' }[event.key];
    const found = target && threadPane.querySelector(target);
    if (!found) return;
    event.preventDefault();
    if (event.key === 'e') found.click(); else found.focus();
  }

  function move(step) {
    if (!conversations.length) return;
    const at = conversations.findIndex((c) => c.line_id === lineId && c.phone === phone);
    const next = conversations[at < 0 ? 0 : Math.min(conversations.length - 1, Math.max(0, at + step))];
    if (at >= 0 && next === conversations[at]) { announce(step > 0 ? 'This is the last conversation.' : 'This is the first conversation.'); return; }
    sessionStorage.setItem('sb.inbox.focusCurrent', '1'); // the next page puts focus on the conversation moved to
    ctx.navigate(`inbox/${encodeURIComponent(next.line_id)}/${encodeURIComponent(next.phone)}`);
  }

  function alertSettings() {
    const prefs = alerts.preferences();
    const sound = field({ label: 'Sound for new texts', name: 'sound', type: 'checkbox', value: prefs.sound });
    const notify = field({ label: 'Desktop notifications', name: 'notify', type: 'checkbox', value: prefs.notify && alerts.notificationsSupported() && Notification.permission === 'granted' });
    const details = field({ label: "Show the patient's number and text in notifications", name: 'details', type: 'checkbox', value: prefs.details });
    const status = h('p', { class: 'hint', 'aria-live': 'polite' });
    const form = h('form', { class: 'alerts inline', 'aria-label': 'Alerts' }, sound, notify, details, status);
    const box = (name) => form.querySelector(`[name="${name}"]`);
    const sync = () => { box('details').disabled = !box('notify').checked; };
    if (!alerts.notificationsSupported()) {
      box('notify').disabled = true;
      status.textContent = 'This browser cannot show notifications.';
    } else if (Notification.permission === 'denied') {
      status.textContent = 'Notifications are blocked for this site in the browser’s settings.';
    }
    sync();
    form.addEventListener('submit', (e) => e.preventDefault());
    form.addEventListener('change', async (event) => {
      const { name, checked } = event.target;
      if (name === 'notify' && checked) {
        const permission = await alerts.enableNotifications();
        box('notify').checked = permission === 'granted';
        status.textContent = permission === 'granted' ? 'Notifications are on for texts to you or to nobody yet.'
          : 'Notifications are blocked for this site in the browser’s settings.';
      } else {
        alerts.setPreference(name, checked);
        if (name === 'notify') status.textContent = 'Notifications are off.';
      }
      sync();
    });
    return form;
  }

  async function openThread() {
    const path = `${base}/lines/${seg(lineId)}/conversations/${seg(phone)}`;
    const header = h('header', { class: 'thread-head' });
    const banner = h('div', { class: 'opt-out-request', role: 'region', 'aria-label': 'Opt-out request', hidden: true });
    const owning = h('div', { class: 'ownership inline', role: 'group', 'aria-label': 'Ownership' });
    let assignable = null;
    let ownershipProblem = null;
    const log = h('ol', { class: 'messages', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite' });
    let thread = await get(path);
    let lastCount = 0;
    const reply = replyForm();
    const saveRecord = button('Download CSV', () => download(`${path}/export`, 'conversation.csv')
      .catch((error) => announce(error.message)), { class: 'small', title: "The whole conversation, for the patient's record" });
    replace(threadPane, h('p', { class: 'back' }, h('a', { href: 'inbox' }, 'All conversations')), header,
      h('div', { class: 'thread-tools' }, saveRecord), owning, banner, log, reply.el);
    draw();
    loadAssignable().catch(() => {});
    await markRead();

    function draw() {
      const c = thread.conversation;
      replace(header, h('h2', {}, c.patient_name || c.phone_display),
        h('p', { class: 'hint' }, `${c.phone_display} · ${lineName(c.line_id)}`), h('div', { class: 'badges' }, markers(c)),
        c.matches && c.matches.length > 1 ? h('div', { class: 'matches' }, h('p', {}, 'Patients who share this phone:'),
          h('ul', {}, c.matches.map((m) => h('li', {}, m.name)))) : null);
      drawBanner(c);
      drawOwnership(c);
      replace(log, thread.messages.length ? thread.messages.map(message) : h('li', { class: 'empty' }, 'No messages yet.'));
      if (thread.messages.length !== lastCount) { log.scrollTop = log.scrollHeight; lastCount = thread.messages.length; }
      reply.blocked(c.opted_out ? 'This patient opted out: nothing can be sent until they text START.'
        : c.not_textable ? 'This number cannot receive texts (a landline).' : null);
    }

    function drawBanner(c) {
      banner.hidden = !c.opt_out_requested;
      if (!c.opt_out_requested) { replace(banner); return; }
      replace(banner, h('p', {}, h('strong', {}, 'The patient may be asking to stop texts.'),
        ' Texts that ask to stop in a sentence count as opting out; decide whether this one does.'),
      h('div', { class: 'inline' },
        button('Opt this patient out', optOut, { class: 'danger' }),
        button('Not a request', dismiss)));
    }

    function drawOwnership(c) {
      if (owning.contains(document.activeElement)) return; // not redrawn under a choice being made
      const mine = c.assignee && c.assignee.user_id === (ctx.me && ctx.me.user_id);
      const state = c.state === 'closed' ? 'Closed' : c.state === 'snoozed' ? `Snoozed until ${when(c.snoozed_until)}` : 'Open';
      const assign = h('select', { 'aria-label': 'Assign to', class: 'assign' },
        h('option', { value: '' }, 'Assign to…'),
        (assignable || []).filter((a) => !c.assignee || a.user_id !== c.assignee.user_id)
          .map((a) => h('option', { value: a.user_id }, a.name)),
        c.assignee ? h('option', { value: '-' }, 'Nobody (unassign)') : null);
      assign.addEventListener('change', () => {
        if (!assign.value) return;
        const userId = assign.value === '-' ? null : assign.value;
        change('assignee', { user_id: userId }, userId ? `Assigned to ${assign.selectedOptions[0].textContent}.` : 'Unassigned.');
      });
      const snooze = h('select', { 'aria-label': 'Snooze', class: 'snooze' }, h('option', { value: '' }, 'Snooze…'),
        snoozeChoices().map(([value, label]) => h('option', { value }, label)));
      snooze.addEventListener('change', () => {
        const chosen = snoozeChoices().find(([value]) => value === snooze.value);
        if (chosen) change('snooze', { until: chosen[2].toISOString() }, `Snoozed until ${when(chosen[2].toISOString())}.`);
      });
      replace(owning,
        h('p', { class: 'owner' }, h('strong', {}, ownerText(c)), ' · ', h('span', { class: 'state' }, state)),
        !c.assignee ? button('Claim', () => change('claim', undefined, 'You own this conversation now.'), { class: 'small primary' }) : null,
        assign,
        c.state === 'closed' || c.state === 'snoozed'
          ? button('Reopen', () => change('reopen', undefined, 'Conversation reopened.'), { class: 'small' })
          : button('Close', () => change('close', undefined, 'Conversation closed.'), { class: 'small close-conversation' }),
        c.state !== 'closed' ? snooze : null,
        mine ? h('span', { class: 'hint' }, 'You own this conversation.') : null,
        ownershipProblem ? h('p', { class: 'error', role: 'alert' }, ownershipProblem) : null);
    }

    async function loadAssignable() {
      if (assignable) return;
      assignable = await get(`${base}/lines/${seg(lineId)}/assignees`).catch(() => []);
      const c = thread.conversation;
      const select = owning.querySelector('select.assign');
      if (!select) return;
      const keep = select.value;
      replace(select, h('option', { value: '' }, 'Assign to…'),
        assignable.filter((a) => !c.assignee || a.user_id !== c.assignee.user_id).map((a) => h('option', { value: a.user_id }, a.name)),
        c.assignee ? h('option', { value: '-' }, 'Nobody (unassign)') : null);
      select.value = keep;
    }

    async function change(action, body, words) {
      let changed;
      try {
        changed = await post(`${path}/${action}`, body);
      } catch (error) {
        // Someone changed it first (or it may not be done): show it as it is now, and say why nothing changed.
        try { thread = await get(path); } catch { /* next poll */ }
        if (owning.contains(document.activeElement)) document.activeElement.blur();
        ownershipProblem = error.message;
        draw();
        return;
      }
      ownershipProblem = null;
      if (owning.contains(document.activeElement)) document.activeElement.blur();
      await decided(changed, words);
      if (filters.view !== 'open' || changed.state !== 'open') loadList().catch(() => {});
    }

    async function decided(changed, words) {
      thread = { ...thread, conversation: changed };
      announce(words);
      draw();
      const item = conversations.findIndex((x) => x.line_id === lineId && x.phone === phone);
      if (item >= 0) { conversations[item] = { ...conversations[item], ...changed }; drawList(); }
      try { thread = await get(path); draw(); } catch { /* next poll */ }
    }

    async function optOut() {
      const changed = await confirmDialog({
        title: 'Opt this patient out?',
        body: ['Nothing more is sent to them from this line until they text START, as if they had texted STOP.',
          'Your name is recorded with the decision.'],
        confirmLabel: 'Opt out', danger: true,
        onConfirm: () => post(`${path}/opt-out`),
      });
      if (changed) await decided(changed, 'The patient is opted out of texts from this line.');
    }

    async function dismiss() {
      const changed = await post(`${path}/opt-out-request/dismiss`).catch(() => null);
      if (changed) await decided(changed, 'Marked as not a request to stop.');
    }

    async function markRead() {
      if (thread.conversation.unread > 0 && !document.hidden) {
        await post(`${path}/read`).catch(() => null);
        thread.conversation.unread = 0;
        alerts.markedRead(thread.conversation);
        const item = conversations.find((c) => c.line_id === lineId && c.phone === phone);
        if (item) { item.unread = 0; drawList(); }
      }
    }

    timers.push(setInterval(async () => {
      if (gone() || document.hidden) return;
      try { thread = await get(path); draw(); await markRead(); } catch { /* next poll */ }
    }, THREAD_POLL_MS));

    function message(m) {
      const sender = m.sender === 'staff' ? (m.sender_id || 'Staff') : SENDERS[m.sender] || titleCase(m.sender);
      return h('li', { class: `message ${m.direction}` },
        m.body || !m.media || !m.media.length ? h('p', { class: 'body' }, m.body || '') : null,
        attachments(m),
        h('p', { class: 'meta' }, sender, ' · ', timeElement(m.created_at, h),
          m.direction === 'outbound' ? [' · ', h('span', { class: `status status-${m.status}` }, titleCase(m.status))] : null),
        m.error ? h('p', { class: 'error' }, notDelivered(m.error)) : null);
    }

    function replyForm() {
      const listId = nextId('quick');
      const text = field({ label: 'Reply', name: 'body', type: 'textarea', rows: 3, maxlength: 1600,
        hint: 'Type !! to insert a quick response.', role: 'combobox', 'aria-autocomplete': 'list', 'aria-expanded': 'false',
        'aria-controls': listId });
      const area = text.querySelector('textarea');
      const counter = h('p', { class: 'counter hint', id: nextId('count'), 'aria-live': 'polite' }, segmentSummary(''));
      const picker = h('ul', { id: listId, role: 'listbox', class: 'quick-picker', 'aria-label': 'Quick responses', hidden: true });
      const insert = field({ label: 'Insert a quick response', name: 'quick', type: 'select',
        options: [['', quick.length ? 'Choose…' : 'None yet (Practice settings)'], ...quick.map((q) => [q.quick_response_id, `${q.title} (${q.language})`])] });
      const notice = h('p', { class: 'warning', hidden: true });
      const colleague = h('p', { class: 'colleague-replied', role: 'alert', hidden: true });
      const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
      const picture = field({ label: 'Attach a picture', name: 'attachment', type: 'file', accept: PICTURE_TYPES,
        hint: 'JPEG, PNG or GIF, up to 3.5 MB: sent with your reply as an MMS.' });
      const fileInput = picture.querySelector('input');
      const chosen = h('p', { class: 'attached', hidden: true });
      const form = h('form', { class: 'reply stack', 'aria-label': 'Reply', novalidate: true }, notice, colleague, text, picker, counter,
        picture, chosen, h('div', { class: 'inline reply-actions' }, insert, send));
      // The picture is kept as soon as it is chosen (a refusal shows at once, beside the field); Send names it.
      let attachment = null;
      const forget = () => { attachment = null; chosen.hidden = true; };
      fileInput.addEventListener('change', async () => {
        const file = fileInput.files[0];
        if (!file) return;
        if (file.size > MAX_PICTURE_BYTES) {
          fileInput.value = '';
          showErrors(form, { errors: [{ field: 'attachment', reason: 'the picture is larger than 3.5 MB' }] });
          return;
        }
        const kept = await submitting(form, async () => {
          try {
            return await post(`${path}/attachments`, { content_type: file.type, data: await base64Of(file) });
          } catch (error) {
            if (Array.isArray(error.errors)) error.errors = error.errors.map((p) => ({ ...p, field: 'attachment' }));
            throw error;
          }
        });
        fileInput.value = '';
        if (!kept) return;
        attachment = { id: kept.attachment_id, name: file.name };
        replace(chosen, `Picture attached: ${file.name} `, button('Remove picture', () => { forget(); fileInput.focus(); }));
        chosen.hidden = false;
        announce('Picture attached.');
      });
      let matches = [];
      let active = 0;
      const updateCount = () => { counter.textContent = segmentSummary(area.value); };

      function trigger() {
        const before = area.value.slice(0, area.selectionStart);
        const found = before.match(/!!([^\s!]*)$/);
        return found ? { start: before.length - found[0].length, query: found[1].toLowerCase() } : null;
      }
      function close() { picker.hidden = true; area.setAttribute('aria-expanded', 'false'); area.removeAttribute('aria-activedescendant'); }
      function open() {
        const t = trigger();
        matches = t ? quick.filter((q) => `${q.title} ${q.body}`.toLowerCase().includes(t.query)) : [];
        if (!t || !matches.length) { close(); return; }
        active = Math.min(active, matches.length - 1);
        replace(picker, matches.map((q, i) => h('li', { id: `${listId}-${i}`, role: 'option', 'aria-selected': String(i === active),
          class: i === active ? 'active' : '', onmousedown: (e) => { e.preventDefault(); choose(i); } },
        h('strong', {}, q.title), ` (${q.language}) `, h('span', { class: 'hint' }, q.body))));
        picker.hidden = false;
        area.setAttribute('aria-expanded', 'true');
        area.setAttribute('aria-activedescendant', `${listId}-${active}`);
      }
      function place(body, start, end) {
        area.value = area.value.slice(0, start) + body + area.value.slice(end);
        area.selectionStart = area.selectionEnd = start + body.length;
        updateCount();
        area.focus();
      }
      function choose(i) {
        const t = trigger();
        if (!t || !matches[i]) return;
        place(matches[i].body, t.start, area.selectionStart);
        close();
        announce(`Inserted ${matches[i].title}.`);
      }
      // One id per draft: Send pressed again after a lost answer is the same reply, so it goes once; any change
      // to the text (typed, or a quick response inserted) makes it another draft.
      let draft = null;
      // What the thread held when this reply was begun: a colleague's reply that arrives while it is written
      // (even one the poll has drawn since) stops Send once, so it is read before a second answer goes.
      let seenAtStart = null;
      const newestMessage = () => thread.messages.reduce((newest, m) => (m.message_id > newest ? m.message_id : newest), '') || undefined;
      area.addEventListener('input', () => {
        if (!area.value.trim()) seenAtStart = null;
        else if (!seenAtStart) seenAtStart = newestMessage();
        active = 0; updateCount(); open();
      });
      area.addEventListener('keydown', (e) => {
        if (picker.hidden) {
          if (e.key === 'Enter' && (e.ctrlKey || e.metaKey)) { e.preventDefault(); form.requestSubmit(); }
          return;
        }
        if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
          e.preventDefault();
          active = (active + (e.key === 'ArrowDown' ? 1 : matches.length - 1)) % matches.length;
          open();
        } else if (e.key === 'Enter' || e.key === 'Tab') { e.preventDefault(); choose(active); } else if (e.key === 'Escape') { e.preventDefault(); close(); }
      });
      area.addEventListener('blur', () => setTimeout(close, 150));
      insert.querySelector('select').addEventListener('change', (e) => {
        const q = quick.find((x) => x.quick_response_id === e.target.value);
        if (q) place(q.body, area.selectionStart, area.selectionEnd);
        e.target.value = '';
      });
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const body = area.value.trim();
        if (!body && !attachment) return;
        const key = `${body}\n${attachment ? attachment.id : ''}`;
        if (!draft || draft.key !== key) draft = { id: crypto.randomUUID(), key };
        const seen = seenAtStart || newestMessage();
        const pictures = attachment ? { attachment_ids: [attachment.id] } : {};
        const queued = await submitting(form, async () => {
          try {
            return await post(`${path}/messages`, { body, draft_id: draft.id, seen_message_id: seen, ...pictures });
          } catch (error) {
            if (error.status !== 409 || !error.errors.some((p) => p.field === 'seen_message_id')) throw error;
            // A colleague answered while this was being written: show their reply; Send again sends this one.
            thread = await get(path);
            draw();
            seenAtStart = newestMessage();
            colleague.textContent = `${error.message}. Your reply was not sent; press Send again to send it anyway.`;
            colleague.hidden = false;
            return null;
          }
        });
        if (!queued) return;
        colleague.hidden = true;
        seenAtStart = null;
        draft = null;
        forget();
        area.value = '';
        updateCount();
        announce('Reply queued.');
        thread = await get(path);
        draw();
        area.focus();
      });
      return {
        el: form,
        blocked(reason) {
          notice.hidden = !reason;
          notice.textContent = reason || '';
          area.disabled = Boolean(reason);
          fileInput.disabled = Boolean(reason);
          send.disabled = Boolean(reason);
        },
      };
    }
  }
}
