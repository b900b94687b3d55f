// Inbox: conversations of the lines you may use, a thread, and a reply box with quick responses (type !!)
// and a live character/segment counter. Polls for new messages.

import { get, post, seg } from '../lib/api.js';
import { announce, badge, button, confirmDialog, emptyState, field, h, nextId, replace, submitting } from '../lib/dom.js';
import { segmentSummary, timeElement, titleCase } from '../lib/format.js';

const LIST_POLL_MS = 4000;
const THREAD_POLL_MS = 2500;
const SENDERS = { patient: 'Patient', workflow: 'Workflow', auto_response: 'Auto-reply', integration: 'Integration', campaign: 'Campaign', system: 'Note' };

export function markers(c) {
  return [
    c.opted_out ? badge('Opted out', 'failed') : null,
    c.not_textable ? badge('Not textable', 'disabled') : null,
    !c.verified ? badge('Unverified', 'unverified') : null,
    c.mpsp ? badge('Several patients', 'mpsp') : null,
    c.opt_out_requested ? badge('May want to stop texts', 'opt-out-request') : null,
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
  const filters = { line_id: sessionStorage.getItem('sb.inbox.line') || '', unread: sessionStorage.getItem('sb.inbox.unread') === '1' };
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

  listPane.append(filterForm, list, more);
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Inbox')),
    h('div', { class: `inbox ${lineId ? 'has-thread' : ''}` }, listPane, threadPane));

  function query(cursorValue) {
    const q = new URLSearchParams();
    if (filters.unread) q.set('unread', 'true');
    if (filters.line_id) q.set('line_id', filters.line_id);
    if (cursorValue) q.set('cursor', cursorValue);
    return q.toString();
  }

  async function loadList(append = false) {
    const page = await get(`${base}/inbox?${query(append ? cursor : null)}`);
    conversations = append ? [...conversations, ...page.conversations] : page.conversations;
    pagesLoaded = append ? pagesLoaded + 1 : 1;
    cursor = page.next_cursor;
    drawList();
  }

  function drawList() {
    if (!conversations.length) {
      const noLines = ctx.role === 'staff' && !ctx.membership.line_ids.length;
      replace(list, h('li', { class: 'empty' }, noLines
        ? 'No conversations: you have permission on no lines yet. Ask a manager to give you lines (Users page).'
        : 'No conversations.'));
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
        last ? h('span', { class: 'snippet' }, last.direction === 'outbound' ? 'Sent: ' : '', last.body || 'a text') : null,
        lastTextFailed(c),
        h('span', { class: 'meta' }, timeElement(c.last_activity_at, h), markers(c))));
      }));
    }
    replace(more, cursor ? h('button', { type: 'button', class: 'small', onclick: () => loadList(true) }, 'Older conversations') : null);
  }

  await loadList();
  timers.push(setInterval(() => { if (pagesLoaded === 1 && !document.hidden) loadList().catch(() => {}); }, LIST_POLL_MS));

  if (lineId && phone) await openThread();
  else replace(threadPane, emptyState(conversations.length ? 'Pick a conversation.' : ''));

  return () => timers.forEach((t) => clearInterval(t));

  async function openThread() {
    const path = `${base}/lines/${seg(lineId)}/conversations/${seg(phone)}`;
    const header = h('header', { class: 'thread-head' });
    const banner = h('div', { class: 'opt-out-request', role: 'region', 'aria-label': 'Opt-out request', hidden: true });
    const log = h('ol', { class: 'messages', role: 'log', 'aria-label': 'Messages', 'aria-live': 'polite' });
    let thread = await get(path);
    let lastCount = 0;
    const reply = replyForm();
    replace(threadPane, h('p', { class: 'back' }, h('a', { href: 'inbox' }, 'All conversations')), header, banner, log, reply.el);
    draw();
    await markRead();

    function draw() {
      const c = thread.conversation;
      replace(header, h('h2', {}, c.patient_name || c.phone_display),
        h('p', { class: 'hint' }, `${c.phone_display} · ${lineName(c.line_id)}`), h('div', { class: 'badges' }, markers(c)),
        c.matches && c.matches.length > 1 ? h('div', { class: 'matches' }, h('p', {}, 'Patients who share this phone:'),
          h('ul', {}, c.matches.map((m) => h('li', {}, m.name)))) : null);
      drawBanner(c);
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
        const item = conversations.find((c) => c.line_id === lineId && c.phone === phone);
        if (item) { item.unread = 0; drawList(); }
      }
    }

    timers.push(setInterval(async () => {
      if (document.hidden) return;
      try { thread = await get(path); draw(); await markRead(); } catch { /* next poll */ }
    }, THREAD_POLL_MS));

    function message(m) {
      const sender = m.sender === 'staff' ? (m.sender_id || 'Staff') : SENDERS[m.sender] || titleCase(m.sender);
      return h('li', { class: `message ${m.direction}` },
        h('p', { class: 'body' }, m.body || ''),
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
      const send = h('button', { type: 'submit', class: 'primary' }, 'Send');
      const form = h('form', { class: 'reply stack', 'aria-label': 'Reply', novalidate: true }, notice, text, picker, counter,
        h('div', { class: 'inline reply-actions' }, insert, send));
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
      area.addEventListener('input', () => { active = 0; updateCount(); open(); });
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
        if (!body) return;
        if (!draft || draft.body !== body) draft = { id: crypto.randomUUID(), body };
        const queued = await submitting(form, () => post(`${path}/messages`, { body, draft_id: draft.id }));
        if (!queued) return;
        draft = null;
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
          send.disabled = Boolean(reason);
        },
      };
    }
  }
}
