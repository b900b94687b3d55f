// Phone simulator (local stack only): act as a patient's phone through the carrier sandbox — see the texts
// it received, send texts and place calls to a line (signed like the carrier's webhooks), see the TwiML.

import { get, post, sandbox, seg } from '../lib/api.js';
import { announce, emptyState, field, h, replace, submitting } from '../lib/dom.js';
import { formatPhone, timeElement, toE164 } from '../lib/format.js';

const POLL_MS = 2000;

export default async function render(view, ctx) {
  if (!ctx.config.sandbox_url) {
    view.append(h('h1', {}, 'Phone simulator'), h('p', {}, 'The phone simulator works on the local stack only.'));
    return null;
  }
  const lines = ctx.practiceId ? (await get(`${seg('practices', ctx.practiceId)}/lines`)).filter((l) => l.status !== 'released') : [];
  const stored = sessionStorage.getItem('sb.sim.phone') || '(415) 555-0148';
  const phone = field({ label: 'Patient’s phone', name: 'phone', type: 'tel', value: stored, autocomplete: 'off',
    hint: 'The phone you are acting as.' });
  const line = field({ label: 'Line', name: 'line', type: 'select',
    options: lines.length ? lines.map((l) => [l.number, `${l.display_name} · ${l.number_display}`]) : [['', 'No lines']] });
  const body = field({ label: 'Text', name: 'body', type: 'textarea', rows: 2, maxlength: 1600, value: '' });
  const result = h('div', { class: 'twiml', 'aria-live': 'polite' });
  const inbox = h('ol', { class: 'messages phone', 'aria-label': 'Texts on this phone', role: 'log' });
  const form = h('form', { class: 'panel stack', 'aria-labelledby': 'sim-title', novalidate: true },
    h('h2', { id: 'sim-title' }, 'Act as a patient'), h('div', { class: 'inline' }, phone, line), body,
    h('div', { class: 'actions' },
      h('button', { type: 'submit', class: 'primary', value: 'sms' }, 'Send text'),
      h('button', { type: 'submit', value: 'call', formnovalidate: true }, 'Place call')),
    result);
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Phone simulator')),
    h('p', { class: 'hint' }, 'Local stack only: the carrier sandbox signs these like the carrier’s own webhooks.'),
    form, h('section', { class: 'panel', 'aria-labelledby': 'phone-title' }, h('h2', { id: 'phone-title' }, 'This phone’s texts'), inbox),
    ctx.practiceId ? await registrationPanel(ctx) : null);

  const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
  function patient() {
    const e164 = toE164(val('phone'));
    if (!e164) throw Object.assign(new Error('Enter a 10-digit US or Canadian number.'), { errors: [{ field: 'phone', reason: 'Enter a 10-digit US or Canadian number.' }] });
    sessionStorage.setItem('sb.sim.phone', formatPhone(e164));
    return e164;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const kind = event.submitter ? event.submitter.value : 'sms';
    const answer = await submitting(form, async () => {
      const from = patient();
      const to = val('line');
      if (!to) throw Object.assign(new Error('Add a line first.'), { errors: [{ field: 'line', reason: 'Add a line first.' }] });
      if (kind === 'sms') {
        if (!val('body')) throw Object.assign(new Error('Type a text.'), { errors: [{ field: 'body', reason: 'Type a text to send.' }] });
        return sandbox(ctx.config, 'POST', '/sandbox/inbound/sms', { from, to, body: form.querySelector('[name="body"]').value });
      }
      return sandbox(ctx.config, 'POST', '/sandbox/inbound/call', { from, to });
    });
    if (!answer) return;
    if (kind === 'sms') form.querySelector('[name="body"]').value = '';
    replace(result, h('h3', {}, kind === 'sms' ? 'Text delivered to Switchboard' : 'Call answered by Switchboard'),
      h('p', {}, `Webhook answered ${answer.status === null ? 'nothing' : answer.status}${answer.error ? `: ${answer.error}` : ''}.`),
      h('p', { class: 'hint' }, 'TwiML:'), h('pre', { class: 'mono', tabindex: '0' }, answer.body || '(empty)'));
    refresh();
  });

  async function refresh() {
    let number;
    try { number = toE164(val('phone')); } catch { number = null; }
    if (!number) { replace(inbox, emptyState('Enter the patient’s phone.')); return; }
    const q = (k) => `/sandbox/messages?${k}=${encodeURIComponent(number)}`;
    const [received, sent] = await Promise.all([sandbox(ctx.config, 'GET', q('to')), sandbox(ctx.config, 'GET', q('from'))]);
    const all = [...received.messages.map((m) => ({ ...m, mine: false })), ...sent.messages.map((m) => ({ ...m, mine: true }))]
      .sort((a, b) => new Date(a.date_created) - new Date(b.date_created) || a.sid.localeCompare(b.sid));
    replace(inbox, all.length ? all.map((m) => h('li', { class: `message ${m.mine ? 'outbound' : 'inbound'}` },
      h('p', { class: 'body' }, m.body),
      h('p', { class: 'meta' }, m.mine ? `To ${formatPhone(m.to)}` : `From ${formatPhone(m.from)}`, ' · ',
        timeElement(new Date(m.date_created).toISOString(), h), ' · ', m.status))) : emptyState('No texts yet.'));
  }

  form.querySelector('[name="phone"]').addEventListener('change', () => refresh().catch(() => {}));
  await refresh().catch((error) => replace(inbox, h('li', { class: 'error', role: 'alert' }, error.message)));
  const timer = setInterval(() => { if (!document.hidden) refresh().catch(() => {}); }, POLL_MS);
  return () => clearInterval(timer);
}

// Plays the carriers' review of the practice's A2P 10DLC campaign, then asks Switchboard to read it again.
const CAMPAIGN_STATES = [['VERIFIED', 'Verified (registered)'], ['IN_PROGRESS', 'In review'], ['PENDING', 'Pending'],
  ['FAILED', 'Failed'], ['SUSPENDED', 'Suspended'], ['', 'No campaign']];

async function registrationPanel(ctx) {
  const base = seg('practices', ctx.practiceId);
  const practice = await get(base);
  if (!practice.messaging_service_sid) return null;
  const status = field({ label: 'Campaign state', name: 'campaign_status', type: 'select', options: CAMPAIGN_STATES,
    value: practice.registration ? (practice.registration.campaign_status || '') : '' });
  const reason = field({ label: 'Review finding (for Failed)', name: 'finding', maxlength: 200, value: '' });
  const shown = h('p', { 'aria-live': 'polite' }, practice.registration ? practice.registration.summary : '');
  const form = h('form', { class: 'panel stack', 'aria-labelledby': 'sim-registration-title', novalidate: true },
    h('h2', { id: 'sim-registration-title' }, 'Carrier review of the practice’s campaign'),
    h('p', { class: 'hint' }, 'Move the A2P 10DLC campaign on this practice’s Messaging Service as the carriers would.'),
    h('div', { class: 'inline' }, status, reason), h('div', { class: 'actions' }, h('button', { type: 'submit' }, 'Apply')), shown);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const picked = form.querySelector('[name="campaign_status"]').value || null;
    const finding = form.querySelector('[name="finding"]').value.trim();
    const done = await submitting(form, async () => {
      await sandbox(ctx.config, 'POST', `/sandbox/services/${encodeURIComponent(practice.messaging_service_sid)}/campaign`,
        { campaign_status: picked, errors: finding ? [finding] : [] });
      return post(`${base}/registration/check`, {});
    });
    if (done) { replace(shown, done.registration.summary); announce(`Registration: ${done.registration.summary}.`); }
  });
  return form;
}
