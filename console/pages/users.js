// Users of the practice: add, change role and line permissions, remove.

import { del, get, patch, post, seg } from '../lib/api.js';
import { announce, button, confirmDialog, emptyState, field, h, nextId, replace, section, submitting } from '../lib/dom.js';

const ROLES = [['staff', 'Staff (inbox of their lines)'], ['manager', 'Manager (settings and users)']];

export default async function render(view, ctx) {
  const base = seg('practices', ctx.practiceId);
  let [users, lines] = await Promise.all([get(`${base}/users`), get(`${base}/lines`)]);
  lines = lines.filter((l) => l.status !== 'released');
  const listBox = h('div', {});
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Users')),
    h('p', { class: 'hint' }, 'Line permissions decide whose conversations a user sees and may answer; no lines, no inbox. '
      + 'Managers see every line.'),
    section('People', listBox), addForm());
  draw();
  return null;

  async function reload() { users = await get(`${base}/users`); draw(); }

  function lineChoices(selected, label) {
    return h('fieldset', { class: 'line-choices', 'data-field': 'line_ids' }, h('legend', {}, label),
      lines.length ? lines.map((l) => {
        const id = nextId('line');
        return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, name: 'line_ids', value: l.line_id,
          checked: selected.includes(l.line_id) }), h('label', { for: id }, `${l.display_name} · ${l.number_display}`));
      }) : h('p', { class: 'hint' }, 'No lines yet.'));
  }

  function draw() {
    if (!users.length) { replace(listBox, emptyState('No users yet: add one below.')); return; }
    replace(listBox, h('ul', { class: 'plain users' }, users.map((u) => {
      const form = h('form', { class: 'user-row stack', 'aria-label': u.email, novalidate: true },
        h('p', { class: 'user-name' }, h('strong', {}, u.name), ' ', h('span', { class: 'hint' }, u.email)),
        h('div', { class: 'inline' },
          field({ label: 'Role', name: 'role', type: 'select', options: ROLES, value: u.role }),
          lineChoices(u.line_ids || [], `Lines ${u.name} may use`)),
        h('div', { class: 'actions' },
          button('Remove', () => remove(u), { class: 'link danger', 'aria-label': `Remove ${u.email}` }),
          h('button', { type: 'submit', 'aria-label': `Save ${u.email}` }, 'Save')));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const done = await submitting(form, () => patch(`${base}/users/${seg(u.user_id)}`, {
          role: form.querySelector('[name="role"]').value,
          line_ids: [...form.querySelectorAll('[name="line_ids"]:checked')].map((c) => c.value), version: u.version,
        }));
        if (done) { announce(`${u.email} saved.`); await reload(); }
      });
      return h('li', {}, form);
    })));
  }

  async function remove(u) {
    const done = await confirmDialog({ title: `Remove ${u.email}?`, body: ['They can no longer use this practice; if it was their last, their sign-in is disabled and they are signed out.'],
      confirmLabel: 'Remove user', danger: true, onConfirm: () => del(`${base}/users/${seg(u.user_id)}`).then(() => true) });
    if (done) { announce(`${u.email} removed.`); await reload(); }
  }

  function addForm() {
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'add-user', novalidate: true },
      h('h2', { id: 'add-user' }, 'Add a user'),
      field({ label: 'Email', name: 'email', type: 'email', required: true, autocomplete: 'off' }),
      field({ label: 'Name', name: 'name', required: true, maxlength: 120 }),
      field({ label: 'Role', name: 'role', type: 'select', options: ROLES }),
      lineChoices([], 'Lines they may use'),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add user')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      const done = await submitting(form, () => post(`${base}/users`, {
        email: val('email'), name: val('name'), role: val('role'),
        line_ids: [...form.querySelectorAll('[name="line_ids"]:checked')].map((c) => c.value),
      }));
      if (done) { form.reset(); announce(`${done.email} added.`); await reload(); }
    });
    return form;
  }
}
