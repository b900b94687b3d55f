// Integrations: the keys a clinic's own systems (EHR, scheduling) send texts and campaigns with — made (the key
// shown once), listed with when each was last used, and revoked; and the campaigns they started, with their
// progress, started (to verified patients picked from the practice's list) and cancelled here.

import { get, post, seg } from '../lib/api.js';
import { announce, badge, button, confirmDialog, emptyState, field, h, replace, shownOnce, submitting } from '../lib/dom.js';
import { timeElement } from '../lib/format.js';

export default async function render(view, ctx) {
  const base = seg('practices', ctx.practiceId);
  const keysBox = h('div', { class: 'table-wrap' });
  const campaignsBox = h('div', { class: 'table-wrap' });
  const once = h('div', { 'aria-live': 'polite' });
  let [keys, campaigns] = await Promise.all([get(`${base}/api-keys`), get(`${base}/campaigns`)]);
  const [lines, patients] = await Promise.all([get(`${base}/lines`), get(`${base}/patients`)]);

  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Integrations'),
    h('div', { class: 'actions' }, button('Refresh', () => reload(), { class: 'small' }))),
  h('p', { class: 'hint' }, 'Your own systems send texts and campaigns through the integration API with a key '
    + '(the x-api-key header). Each key is shown once; make one per system, so one can be revoked alone.'),
  h('h2', {}, 'Keys'), once, keysBox, newKeyForm(), h('h2', {}, 'Campaigns'), campaignsBox, newCampaignForm());
  draw();
  return null;

  async function reload() {
    [keys, campaigns] = await Promise.all([get(`${base}/api-keys`), get(`${base}/campaigns`)]);
    draw();
  }

  function draw() {
    replace(keysBox, keys.length ? h('table', { class: 'keys' },
      h('caption', { class: 'visually-hidden' }, 'Integration keys'),
      h('thead', {}, h('tr', {}, ['Key', 'Made by', 'Made', 'Last used', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, keys.map((k) => h('tr', {},
        h('th', { scope: 'row' }, k.name, ' ', k.revoked ? badge('Revoked', 'failed') : badge('Active', 'enabled')),
        h('td', {}, k.created_by), h('td', {}, timeElement(k.created_at, h)),
        h('td', {}, k.last_used_at ? timeElement(k.last_used_at, h) : 'Never'),
        h('td', {}, k.revoked ? '—' : button('Revoke…', () => revoke(k), { class: 'small danger', 'aria-label': `Revoke ${k.name}` }))))))
      : emptyState('No keys yet.'));
    replace(campaignsBox, campaigns.length ? h('table', { class: 'campaigns' },
      h('caption', { class: 'visually-hidden' }, 'Campaigns'),
      h('thead', {}, h('tr', {}, ['Campaign', 'Status', 'Sent', 'Failed', 'Not sent', 'Waiting', ''].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, campaigns.map((c) => {
        const n = c.counts || {};
        return h('tr', {},
          h('th', { scope: 'row' }, c.name, h('br'), h('span', { class: 'hint' }, `${n.recipients || 0} recipients`)),
          h('td', {}, c.status), h('td', { class: 'num' }, String(n.sent || 0)), h('td', { class: 'num' }, String(n.failed || 0)),
          h('td', { class: 'num' }, String(n.suppressed || 0)), h('td', { class: 'num' }, String(n.pending || 0)),
          h('td', {}, c.status === 'running'
            ? button('Cancel…', () => cancel(c), { class: 'small danger', 'aria-label': `Cancel ${c.name}` }) : '—'));
      }))) : emptyState('No campaigns yet: start one below, or a system with a key starts them (POST /v1/campaigns).'));
  }

  function newKeyForm() {
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'new-key', novalidate: true },
      h('h3', { id: 'new-key' }, 'New key'),
      field({ label: 'Which system uses it', name: 'name', required: true, maxlength: 80, placeholder: 'Scheduling (Epic)' }),
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Make key')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const made = await submitting(form, () => post(`${base}/api-keys`, { name: form.querySelector('[name="name"]').value.trim() }));
      if (!made) return;
      form.reset();
      showOnce(made);
      await reload();
    });
    return form;
  }

  function newCampaignForm() {
    const enabled = lines.filter((l) => l.status === 'enabled');
    const picks = h('fieldset', { class: 'recipients stack', 'data-field': 'recipients' }, h('legend', {}, 'Patients to text'),
      patients.length ? [...patients].sort((a, b) => a.name.localeCompare(b.name)).map((p) => h('label', { class: 'check' },
        h('input', { type: 'checkbox', name: 'patient', value: p.patient_id }), ` ${p.name} (${p.patient_id})`))
        : h('p', { class: 'hint' }, 'No patients yet: add them on the Patients page.'));
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'new-campaign', novalidate: true },
      h('h3', { id: 'new-campaign' }, 'Start a campaign'),
      field({ label: 'Campaign name', name: 'name', required: true, maxlength: 80, placeholder: 'Flu shots — October' }),
      field({ label: 'Texts from line', name: 'line_id', type: 'select',
        options: enabled.length ? enabled.map((l) => [l.line_id, `${l.display_name} · ${l.number_display}`]) : [['', 'No enabled line']] }),
      field({ label: 'Text', name: 'template', type: 'textarea', rows: 3, maxlength: 320, required: true,
        hint: '{first_name} is each patient’s first name. Texts go at the line’s rate, outside quiet hours.' }),
      picks, h('div', { class: 'actions' }, button('Select all', () => {
        form.querySelectorAll('[name="patient"]').forEach((box) => { box.checked = true; });
      }, { class: 'small' }), h('button', { type: 'submit', class: 'primary' }, 'Start campaign')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = [...form.querySelectorAll('[name="patient"]:checked')].map((box) => box.value);
      const byId = new Map(patients.map((p) => [p.patient_id, p]));
      const started = await submitting(form, () => post(`${base}/campaigns`, {
        name: form.querySelector('[name="name"]').value.trim(), line_id: form.querySelector('[name="line_id"]').value,
        template: form.querySelector('[name="template"]').value,
        recipients: chosen.map((id) => ({ patient_id: id, variables: { first_name: byId.get(id).name.split(/\s+/)[0] } })),
      }));
      if (!started) return;
      form.reset();
      announce(`${started.name} started: ${started.counts.recipients} patients.`);
      await reload();
    });
    return form;
  }

  function showOnce(made) {
    const { panel, input } = shownOnce({ id: 'new-key-value', title: `Key for ${made.name}`, label: 'Integration key',
      value: made.key, copyLabel: 'Copy key', headingLevel: 'h3',
      warning: 'Shown once: put it in the system now. Anyone with it can text your patients.' });
    replace(once, panel);
    input.focus();
    input.select();
  }

  async function revoke(k) {
    const done = await confirmDialog({ title: `Revoke ${k.name}?`,
      body: ['The system using it can no longer send; this cannot be undone (make a new key instead).'],
      confirmLabel: 'Revoke key', danger: true, onConfirm: () => post(`${base}/api-keys/${seg(k.key_id)}/revoke`) });
    if (done) { announce(`${k.name} revoked.`); replace(once); await reload(); }
  }

  async function cancel(c) {
    const done = await confirmDialog({ title: `Cancel ${c.name}?`,
      body: ['Texts not yet sent will not go. Texts already sent stay sent.'],
      confirmLabel: 'Cancel campaign', danger: true, onConfirm: () => post(`${base}/campaigns/${seg(c.campaign_id)}/cancel`) });
    if (done) { announce(`${c.name} canceled.`); await reload(); }
  }
}
