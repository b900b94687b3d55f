// Audit: who changed or opened what, and when, newest first; narrowed by person, kind of action and days (in
// the practice's time), a page at a time, and downloaded as CSV (the download is itself on the trail).

import { download, get, seg } from '../lib/api.js';
import { button, clearErrors, emptyState, field, h, replace, showErrors } from '../lib/dom.js';
import { timeElement, wallClockToIso } from '../lib/format.js';

const WHAT = [
  ['', 'Everything'],
  ['conversation.read', 'Conversations opened'],
  ['conversation', 'Conversations (opened, assigned, closed, opted out)'],
  ['line', 'Lines'],
  ['workflow', 'Workflows'],
  ['user', 'Users'],
  ['practice', 'Practice settings'],
  ['patient', 'Patients'],
  ['campaign', 'Campaigns'],
  ['api_key', 'Integration keys'],
  ['quick_response', 'Quick responses'],
  ['resource', 'Resources'],
  ['audit.export', 'Audit downloads'],
];

function shown(value) {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

function nextDay(day) {
  const d = new Date(`${day}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

function row(e) {
  return h('tr', {},
    h('td', {}, timeElement(e.at, h)), h('td', {}, e.actor),
    h('td', {}, h('span', { class: 'mono' }, e.action), h('br'), h('span', { class: 'hint' }, `${e.entity} ${e.entity_id}`)),
    h('td', {}, h('ul', { class: 'plain changes' }, Object.entries(e.changes || {}).map(([name, change]) => h('li', {},
      h('span', { class: 'mono' }, name), ': ', shown(change && change.before), ' → ', shown(change && change.after))))));
}

export default async function render(view, ctx) {
  const zone = (ctx.practice && ctx.practice.timezone) || 'UTC';
  const who = field({ label: 'Who (email)', name: 'actor', type: 'email', autocomplete: 'off' });
  const what = field({ label: 'What', name: 'action', type: 'select', options: WHAT });
  const from = field({ label: 'From day', name: 'since', type: 'date' });
  const to = field({ label: 'To day', name: 'until', type: 'date' });
  const form = h('form', { class: 'filters inline', 'aria-label': 'Narrow the trail' }, who, what, from, to,
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'small' }, 'Show'),
      button('Download CSV', () => save(), { class: 'small' })));
  const box = h('div', { class: 'table-wrap' });
  const more = h('div', { class: 'actions' });
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Audit')),
    h('p', { class: 'hint' }, `Who changed or opened what, newest first. Days are in the practice's time (${zone}).`),
    form, box, more);

  function query() {
    const params = new URLSearchParams();
    const value = (name) => form.elements[name].value.trim();
    if (value('actor')) params.set('actor', value('actor'));
    if (value('action')) params.set('action', value('action'));
    if (value('since')) params.set('since', wallClockToIso(`${value('since')}T00:00`, zone));
    if (value('until')) {
      params.set('until', new Date(Date.parse(wallClockToIso(`${nextDay(value('until'))}T00:00`, zone)) - 1).toISOString());
    }
    return params;
  }

  let rows = null;
  async function load(cursor) {
    const params = query();
    params.set('limit', '50');
    if (cursor) params.set('cursor', cursor);
    clearErrors(form);
    let page;
    try {
      page = await get(`${seg('practices', ctx.practiceId)}/audit?${params}`);
    } catch (error) { showErrors(form, error); return; }
    if (!cursor) {
      rows = h('tbody');
      replace(box, page.entries.length ? h('table', { class: 'audit' },
        h('caption', { class: 'visually-hidden' }, 'Audit trail'),
        h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Changes'].map((t) => h('th', { scope: 'col' }, t)))),
        rows) : emptyState('Nothing recorded matches.'));
    }
    rows.append(...page.entries.map(row));
    replace(more, page.next_cursor ? button('Show older', () => load(page.next_cursor), { class: 'small' }) : null);
  }

  async function save() {
    clearErrors(form);
    try {
      await download(`${seg('practices', ctx.practiceId)}/audit/export?${query()}`, `audit-${ctx.practiceId}.csv`);
    } catch (error) { showErrors(form, error); }
  }

  form.addEventListener('submit', (event) => { event.preventDefault(); load(null); });
  await load(null);
  return null;
}
