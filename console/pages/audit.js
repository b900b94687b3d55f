// Audit: recent changes to the practice's lines, workflows, users and settings (who, when, what).

import { get, seg } from '../lib/api.js';
import { button, emptyState, h, replace } from '../lib/dom.js';
import { timeElement } from '../lib/format.js';

function shown(value) {
  if (value === null || value === undefined) return '—';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}…` : text;
}

export default async function render(view, ctx) {
  const box = h('div', { class: 'table-wrap' });
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Audit'),
    h('div', { class: 'actions' }, button('Refresh', () => load(), { class: 'small' }))),
  h('p', { class: 'hint' }, 'The latest changes, newest first.'), box);

  async function load() {
    const entries = await get(`${seg('practices', ctx.practiceId)}/audit?limit=200`);
    if (!entries.length) { replace(box, emptyState('No changes recorded yet.')); return; }
    replace(box, h('table', { class: 'audit' },
      h('caption', { class: 'visually-hidden' }, 'Recent changes'),
      h('thead', {}, h('tr', {}, ['When', 'Who', 'What', 'Changes'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, entries.map((e) => h('tr', {},
        h('td', {}, timeElement(e.at, h)), h('td', {}, e.actor),
        h('td', {}, h('span', { class: 'mono' }, e.action), h('br'), h('span', { class: 'hint' }, `${e.entity} ${e.entity_id}`)),
        h('td', {}, h('ul', { class: 'plain changes' }, Object.entries(e.changes || {}).map(([name, change]) => h('li', {},
          h('span', { class: 'mono' }, name), ': ', shown(change && change.before), ' → ', shown(change && change.after))))))))));
  }

  await load();
  return null;
}
