// Workflows: call-to-text and abandoned-call webhooks with their counts; create (URL shown once), test, edit
// the text and how often a caller is texted, rotate and revoke.

import { get, patch, post, seg } from '../lib/api.js';
import { announce, badge, button, confirmDialog, emptyState, field, h, replace, shownOnce, submitting, showErrors } from '../lib/dom.js';
import { formatPhone } from '../lib/format.js';

function minutes(m) {
  if (m % 60) return `${m} minutes`;
  return m === 60 ? '1 hour' : `${m / 60} hours`;
}

const KINDS = { call_to_text: 'Call-to-text', abandoned_call: 'Abandoned call' };
const COUNTS = [['received', 'Received'], ['texted', 'Texted'], ['delivered', 'Delivered'], ['duplicates', 'Duplicates'],
  ['failed', 'Failed'], ['opted_out', 'Opted out'], ['not_textable', 'Not textable'], ['canceled', 'Cancelled'],
  ['replied', 'Replied']];
const WAIT_HINT = 'An abandoned-call text waits this long in case the caller rings back or asks for a text; '
  + 'if they reach the practice meanwhile, it does not go.';

function waitChoices(own) {
  const choices = [['0', 'Text at once'], ...[1, 2, 5, 10].map((m) => [String(m), m === 1 ? '1 minute' : `${m} minutes`])];
  if (own && !choices.some(([value]) => value === String(own))) choices.push([String(own), `${own} minutes`]);
  return choices;
}

export default async function render(view, ctx) {
  const base = seg('practices', ctx.practiceId);
  const table = h('div', { class: 'table-wrap' });
  const once = h('div', { 'aria-live': 'polite' });
  const editing = h('div');
  let [workflows, lines] = await Promise.all([get(`${base}/workflows`), get(`${base}/lines`)]);
  const lineName = (id) => { const l = lines.find((x) => x.line_id === id); return l ? `${l.display_name} · ${l.number_display}` : id; };

  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Workflows'),
    h('div', { class: 'actions' }, button('Refresh', () => reload(), { class: 'small' }))),
  h('p', { class: 'hint' }, 'A phone system calls a workflow’s secret URL with the caller’s number (CALLER_ID_NUMBER); '
    + 'Switchboard texts that caller once from the workflow’s line.'), once, table, editing,
  ctx.isManager ? createForm() : null);
  draw();
  return null;

  async function reload() { workflows = await get(`${base}/workflows`); draw(); }

  function draw() {
    if (!workflows.length) { replace(table, emptyState('No workflows yet.')); return; }
    replace(table, h('table', { class: 'workflows' },
      h('caption', { class: 'visually-hidden' }, 'Workflows and their counts'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Workflow'), h('th', { scope: 'col' }, 'Line'),
        COUNTS.map(([, label]) => h('th', { scope: 'col', class: 'num' }, label)), ctx.isManager ? h('th', { scope: 'col' }, 'Actions') : null)),
      h('tbody', {}, workflows.map((w) => {
        const counts = w.counts || {};
        const reasons = Object.entries(counts.failed_by_reason || {}).map(([r, n]) => `${r}: ${n}`).join('; ');
        return h('tr', { 'data-workflow-id': w.workflow_id },
          h('th', { scope: 'row' }, h('span', { class: 'wf-name' }, w.name), h('br'),
            h('span', { class: 'hint' }, `${KINDS[w.kind] || w.kind} · ${w.language} · ${w.vendor}`
              + (w.delay_minutes ? ` · waits ${w.delay_minutes} min` : '')), ' ',
            w.revoked ? badge('Revoked', 'failed') : w.enabled ? badge('Enabled', 'enabled') : badge('Disabled', 'disabled')),
          h('td', {}, lineName(w.line_id)),
          COUNTS.map(([key]) => h('td', { class: 'num', title: key === 'failed' && reasons ? reasons : null }, String(counts[key] || 0))),
          ctx.isManager ? h('td', {}, w.revoked ? '—' : h('div', { class: 'row-actions' },
            button('Edit…', () => edit(w), { class: 'small', 'aria-label': `Edit ${w.name}` }),
            button(w.enabled ? 'Disable' : 'Enable', () => toggle(w), { class: 'small', 'aria-label': `${w.enabled ? 'Disable' : 'Enable'} ${w.name}` }),
            button('Rotate URL…', () => rotate(w), { class: 'small', 'aria-label': `Rotate the URL of ${w.name}` }),
            button('Revoke…', () => revoke(w), { class: 'small danger', 'aria-label': `Revoke ${w.name}` }))) : null);
      }))));
  }

  function windowChoices(w) {
    const practiceWindow = (ctx.practice && ctx.practice.duplicate_window_minutes) || 10;
    const choices = [['', `The practice’s (${minutes(practiceWindow)})`], ...[10, 30, 60, 240].map((m) => [String(m), minutes(m)]),
      ['1440', '24 hours (once a day)']];
    const own = w.duplicate_window_minutes;
    if (own && !choices.some(([value]) => value === String(own))) choices.push([String(own), minutes(own)]);
    return choices;
  }

  function edit(w) {
    const template = field({ label: 'Text', name: 'template', type: 'textarea', rows: 3, maxlength: 255, required: true,
      value: w.template, hint: 'At most 255 characters after filling in {practice_name} and {line_number}.' });
    const window = field({ label: 'Text a caller at most once in', name: 'duplicate_window_minutes', type: 'select',
      options: windowChoices(w), value: w.duplicate_window_minutes ? String(w.duplicate_window_minutes) : '',
      hint: 'A caller who calls again within this time is not texted again.' });
    const wait = w.kind === 'abandoned_call' ? field({ label: 'Wait before texting', name: 'delay_minutes', type: 'select',
      options: waitChoices(w.delay_minutes), value: String(w.delay_minutes || 0), hint: WAIT_HINT }) : null;
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'edit-workflow', novalidate: true },
      h('h2', { id: 'edit-workflow' }, `Edit ${w.name}`), template, window, wait,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save workflow'),
        button('Cancel', () => replace(editing))));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = form.querySelector('[name="duplicate_window_minutes"]').value;
      const saved = await submitting(form, () => patch(`${base}/workflows/${seg(w.workflow_id)}`, {
        template: form.querySelector('[name="template"]').value,
        duplicate_window_minutes: chosen ? Number(chosen) : null,
        ...(wait ? { delay_minutes: Number(form.querySelector('[name="delay_minutes"]').value) } : {}),
        version: w.version }));
      if (saved) { replace(editing); announce(`${saved.name} saved.`); await reload(); }
    });
    replace(editing, form);
    form.querySelector('textarea').focus();
  }

  async function toggle(w) {
    try {
      await patch(`${base}/workflows/${seg(w.workflow_id)}`, { enabled: !w.enabled, version: w.version });
      announce(`${w.name} ${w.enabled ? 'disabled' : 'enabled'}.`);
    } catch (error) { announce(error.message); }
    await reload();
  }

  async function rotate(w) {
    const made = await confirmDialog({ title: `Rotate the URL of ${w.name}?`,
      body: ['A new URL is made and the old one stops working at once: update the phone system right after.'],
      confirmLabel: 'Rotate URL', onConfirm: () => post(`${base}/workflows/${seg(w.workflow_id)}/rotate`) });
    if (made) { showOnce(made, 'New webhook URL'); await reload(); }
  }

  async function revoke(w) {
    const done = await confirmDialog({ title: `Revoke ${w.name}?`,
      body: ['Its URL stops working for good; the phone system’s calls to it will be refused. Counts stay.'],
      confirmLabel: 'Revoke workflow', danger: true, onConfirm: () => post(`${base}/workflows/${seg(w.workflow_id)}/revoke`) });
    if (done) { announce(`${w.name} revoked.`); replace(once); await reload(); }
  }

  function showOnce(workflow, title) {
    const { panel, input } = shownOnce({ id: 'webhook-url', title: `${title}: ${workflow.name}`, label: 'Webhook URL',
      value: workflow.webhook_url, copyLabel: 'Copy URL', after: testForm(workflow),
      warning: 'Shown once: copy it into the phone system now. It is a secret — anyone with it can make Switchboard text.' });
    replace(once, panel);
    input.focus();
    input.select();
  }

  function testForm(workflow) {
    const number = field({ label: 'Caller’s number', name: 'caller', field: 'CALLER_ID_NUMBER', type: 'tel', autocomplete: 'off',
      hint: 'Fires the URL as the phone system would; Switchboard texts this number once.' });
    const result = h('p', { role: 'status', class: 'result' });
    const form = h('form', { class: 'stack test-webhook', 'aria-label': 'Test the webhook', novalidate: true }, h('h3', {}, 'Test it'),
      h('div', { class: 'inline' }, number, h('button', { type: 'submit' }, 'Send test')), result);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      result.textContent = '';
      const caller = form.querySelector('[name="caller"]').value.trim();
      const answer = await submitting(form, async () => {
        let response;
        try {
          response = await fetch(workflow.webhook_url, { method: 'POST',
            headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ CALLER_ID_NUMBER: caller }) });
        } catch { throw Object.assign(new Error('The webhook could not be reached from this page.'), { errors: [] }); }
        const body = await response.json().catch(() => ({}));
        if (response.status === 404) throw Object.assign(new Error('This URL no longer works (rotated, revoked or disabled).'), { errors: [] });
        if (!response.ok) throw Object.assign(new Error(body.message || `The webhook answered ${response.status}.`), { errors: body.errors || [] });
        return body;
      });
      if (!answer) return;
      result.textContent = answer.status === 'duplicate'
        ? `Duplicate: ${formatPhone(caller)} was texted a moment ago, so no second text.`
        : `Queued: Switchboard is texting ${formatPhone(caller)} (${answer.status}).`;
      reload();
    });
    return form;
  }

  function createForm() {
    const enabled = lines.filter((l) => l.status === 'enabled');
    const template = field({ label: 'Text', name: 'template', type: 'textarea', rows: 3, maxlength: 255, required: true,
      value: 'Thanks for calling {practice_name}! Reply to this text and our team will answer here.',
      hint: 'At most 255 characters after filling in {practice_name} and {line_number}. Links are fine. '
        + 'Do not include health information: the caller may not be a verified patient.' });
    const counter = h('p', { class: 'hint counter', 'aria-live': 'polite' });
    const area = template.querySelector('textarea');
    const count = () => { counter.textContent = `${[...area.value].length} / 255 characters before placeholders`; };
    area.addEventListener('input', count);
    count();
    const wait = field({ label: 'Wait before texting', name: 'delay_minutes', type: 'select', options: waitChoices(0),
      value: '0', hint: WAIT_HINT });
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'new-workflow', novalidate: true },
      h('h2', { id: 'new-workflow' }, 'New workflow'),
      field({ label: 'Name', name: 'name', required: true, maxlength: 80, placeholder: 'Missed calls — English' }),
      field({ label: 'Kind', name: 'kind', type: 'select', options: Object.entries(KINDS) }), wait,
      field({ label: 'Phone system', name: 'vendor', value: 'phone-system', maxlength: 32,
        hint: 'A label that goes in the URL: jive, ringcentral, five9… (lowercase letters, digits, dashes).' }),
      field({ label: 'Language', name: 'language', value: 'English', maxlength: 40,
        hint: 'One workflow per language: the phone system picks the URL after the caller chose a language.' }),
      field({ label: 'Texts from line', name: 'line_id', type: 'select',
        options: enabled.length ? enabled.map((l) => [l.line_id, `${l.display_name} · ${l.number_display}`]) : [['', 'No enabled line']] }),
      template, counter,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Create workflow')));
    const kind = form.querySelector('[name="kind"]');
    const showWait = () => { wait.hidden = kind.value !== 'abandoned_call'; };
    kind.addEventListener('change', showWait);
    showWait();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      if (!val('line_id')) { showErrors(form, { errors: [{ field: 'line_id', reason: 'Add or enable a line first.' }] }); return; }
      const made = await submitting(form, () => post(`${base}/workflows`, {
        name: val('name'), kind: val('kind'), vendor: val('vendor'), language: val('language'), line_id: val('line_id'),
        template: form.querySelector('[name="template"]').value,
        ...(val('kind') === 'abandoned_call' ? { delay_minutes: Number(val('delay_minutes')) } : {}),
      }));
      if (made) { form.querySelector('[name="name"]').value = ''; showOnce(made, 'Webhook URL'); await reload(); }
    });
    return form;
  }
}
