// Patients: the verified patients from the clinic's records that callers' numbers are matched to — added, their
// name or phone changed, and removed. Conversations of a phone that gains or loses a patient are matched again.
// Admins also set whether callers are matched to other practices' patients (an enterprise-wide compliance choice).

import { del, get, patch, post, put, seg } from '../lib/api.js';
import { announce, button, confirmDialog, emptyState, field, h, replace, submitting } from '../lib/dom.js';
import { formatPhone } from '../lib/format.js';

export default async function render(view, ctx) {
  const base = seg('practices', ctx.practiceId);
  const table = h('div', { class: 'table-wrap' });
  const editing = h('div');
  let patients = await get(`${base}/patients`);
  const matching = ctx.isAdmin ? h('section', { class: 'panel stack', 'aria-labelledby': 'matching-title' }) : null;

  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Patients'),
    h('div', { class: 'actions' }, button('Refresh', () => reload(), { class: 'small' }))),
  h('p', { class: 'hint' }, 'Verified patients from your records. A caller or texter whose number is a patient’s is '
    + 'shown to staff by name; several patients may share one phone.'), table, editing, addForm(), matching);
  draw();
  if (matching) drawMatching(await get('enterprise'));
  return null;

  function drawMatching(settings) {
    const on = settings.cross_practice_matching;
    replace(matching, h('h2', { id: 'matching-title' }, 'Matching across practices'),
      h('p', { class: 'state' }, on ? 'On: staff see other practices’ patients who share a caller’s number.'
        : 'Off: staff see only this practice’s patients.'),
      h('p', { class: 'hint warning' }, 'This is one setting for every practice. Showing staff of one practice that a '
        + 'caller is another practice’s patient discloses that relationship: turn it on only where your compliance '
        + 'officer allows sharing between these practices (for example, one covered entity).'),
      h('div', { class: 'actions' }, button(on ? 'Turn off…' : 'Turn on…', () => toggleMatching(on),
        { class: on ? '' : 'danger' })));
  }

  async function toggleMatching(on) {
    const saved = await confirmDialog({
      title: on ? 'Stop matching across practices?' : 'Match callers to every practice’s patients?',
      body: on ? ['Conversations already matched keep their names until the patient’s records change.']
        : ['Staff of every practice will see the names of other practices’ patients who share a caller’s number.',
          'The change is recorded with who made it.'],
      confirmLabel: on ? 'Turn off' : 'Turn on', danger: !on,
      onConfirm: () => put('enterprise', { cross_practice_matching: !on }) });
    if (saved) { announce(`Matching across practices is ${saved.cross_practice_matching ? 'on' : 'off'}.`); drawMatching(saved); }
  }

  async function reload() { patients = await get(`${base}/patients`); draw(); }

  function draw() {
    if (!patients.length) { replace(table, emptyState('No patients yet.')); return; }
    const sorted = [...patients].sort((a, b) => a.name.localeCompare(b.name) || a.patient_id.localeCompare(b.patient_id));
    replace(table, h('table', { class: 'patients' },
      h('caption', { class: 'visually-hidden' }, 'Verified patients'),
      h('thead', {}, h('tr', {}, ['Patient', 'Record id', 'Phone', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, sorted.map((p) => h('tr', { 'data-patient-id': p.patient_id },
        h('th', { scope: 'row' }, p.name), h('td', {}, p.patient_id), h('td', {}, formatPhone(p.phone)),
        h('td', {}, h('div', { class: 'row-actions' },
          button('Edit…', () => edit(p), { class: 'small', 'aria-label': `Edit ${p.name}` }),
          button('Remove…', () => remove(p), { class: 'small danger', 'aria-label': `Remove ${p.name}` }))))))));
  }

  function edit(p) {
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'edit-patient', novalidate: true },
      h('h2', { id: 'edit-patient' }, `Edit ${p.name}`),
      field({ label: 'Name', name: 'name', required: true, maxlength: 120, value: p.name }),
      field({ label: 'Mobile number', name: 'phone', type: 'tel', required: true, value: formatPhone(p.phone),
        hint: 'Conversations with the old and the new number are matched again when you save.' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save patient'),
        button('Cancel', () => replace(editing))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      const saved = await submitting(form, () => patch(`${base}/patients/${seg(p.patient_id)}`,
        { name: val('name'), phone: val('phone') }));
      if (saved) { replace(editing); announce(`${saved.name} saved.`); await reload(); }
    });
    replace(editing, form);
    form.querySelector('input').focus();
  }

  async function remove(p) {
    const done = await confirmDialog({ title: `Remove ${p.name}?`,
      body: ['Their number is no longer matched to them: staff see it as an unverified caller unless another '
        + 'patient shares it. Conversations stay.'],
      confirmLabel: 'Remove patient', danger: true,
      onConfirm: async () => { await del(`${base}/patients/${seg(p.patient_id)}`); return true; } });
    if (done) { announce(`${p.name} removed.`); await reload(); }
  }

  function addForm() {
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'new-patient', novalidate: true },
      h('h2', { id: 'new-patient' }, 'Add a patient'),
      field({ label: 'Record id', name: 'patient_id', required: true, maxlength: 64, placeholder: 'MRN-10423',
        hint: 'The id in your records (letters, digits, dot, dash, underscore).' }),
      field({ label: 'Name', name: 'name', required: true, maxlength: 120 }),
      field({ label: 'Mobile number', name: 'phone', type: 'tel', required: true }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Add patient')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      const made = await submitting(form, () => post(`${base}/patients`,
        { patient_id: val('patient_id'), name: val('name'), phone: val('phone') }));
      if (made) { form.reset(); announce(`${made.name} added.`); await reload(); }
    });
    return form;
  }
}
