// Phone numbers: a card per line with its status, calls and primary badges; the settings menu; "Add line".

import { get, post, seg } from '../lib/api.js';
import { announce, badge, button, confirmDialog, emptyState, field, h, nextId, replace, showErrors, submitting } from '../lib/dom.js';
import { formatPhone, inZone, sameNumber, titleCase } from '../lib/format.js';

export const STATUS_LABELS = { pending: 'Pending', enabled: 'Enabled', disabled: 'Disabled', failed: 'Failed', released: 'Released' };
export const CALL_LABELS = { forwarding: 'Forwarding', linked: 'Linked', unassigned: 'Unassigned' };

export const REGISTRATION_LABELS = { registered: 'A2P registered', in_review: 'A2P in review', failed: 'A2P failed',
  not_registered: 'A2P not registered' };

// The practice's A2P 10DLC registration decides whether carriers take any line's texts, so every card shows it.
export function registrationBadge(registration) {
  if (!registration) return null;
  const shown = badge(REGISTRATION_LABELS[registration.state] || titleCase(registration.state), `registration-${registration.state}`);
  shown.title = registration.summary;
  return shown;
}

export function lineBadges(line, registration = null) {
  return h('div', { class: 'badges' },
    badge(STATUS_LABELS[line.status] || titleCase(line.status), line.status),
    line.status !== 'released' ? badge(CALL_LABELS[line.calls] || titleCase(line.calls), `calls-${line.calls}`) : null,
    line.primary ? badge('Primary', 'primary') : null,
    line.status !== 'released' ? registrationBadge(registration) : null);
}

// "Closed until <time> — <reason>" while an emergency close holds, on the line's clock (the API drops it once past).
export function closedNow(line, practiceTimezone) {
  if (!line.closed_now) return null;
  const until = inZone(line.closed_now.until, line.timezone || practiceTimezone);
  return h('p', { class: 'closed-now' }, `Closed until ${until} — ${line.closed_now.reason}`);
}

export default async function render(view, ctx) {
  const practiceId = ctx.practiceId;
  const base = seg('practices', practiceId);
  const cards = h('div', { class: 'cards', 'aria-live': 'polite' });
  const addButton = ctx.isManager ? button('Add line', () => toggleAdd(), { class: 'primary', 'aria-expanded': 'false' }) : null;
  const addPanel = h('section', { class: 'panel add-line', hidden: true, 'aria-labelledby': 'add-line-title' });
  let lines = [];
  let practice = null;
  let timer = null;
  let reopenTimer = null;

  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Phone numbers'),
    h('div', { class: 'actions' }, button('Refresh', () => load(), { class: 'small' }), addButton)), addPanel, cards);

  async function load() {
    [lines, practice] = await Promise.all([get(`${base}/lines`), get(base)]);
    draw();
    clearTimeout(timer);
    if (lines.some((l) => l.status === 'pending')) timer = setTimeout(() => load().catch(() => {}), 4000);
    clearTimeout(reopenTimer);
    // A card stops saying "Closed until…" when the line reopens by itself, without waiting for a reload.
    const reopening = Math.min(...lines.filter((l) => l.closed_now).map((l) => Date.parse(l.closed_now.until)));
    if (Number.isFinite(reopening)) {
      reopenTimer = setTimeout(() => load().catch(() => {}), Math.min(Math.max(reopening - Date.now(), 0) + 1000, 2 ** 31 - 1));
    }
  }

  function draw() {
    const shown = lines.filter((l) => l.status !== 'released');  // the API leaves released lines out already
    replace(cards, shown.length ? shown.map(card) : emptyState(ctx.isManager ? 'No lines yet: add one.' : 'No lines you may use.'));
  }

  function card(line) {
    const titleId = `line-${line.line_id}`;
    return h('article', { class: `card line-card status-${line.status}`, 'aria-labelledby': titleId, 'data-line-id': line.line_id },
      h('div', { class: 'card-head' },
        h('h2', { id: titleId }, h('a', { href: `lines/${encodeURIComponent(line.line_id)}` }, line.display_name)),
        ctx.isManager ? menu(line) : null),
      h('p', { class: 'number' }, line.number_display || formatPhone(line.number)),
      lineBadges(line, practice && practice.registration),
      closedNow(line, practice && practice.timezone),
      h('dl', { class: 'facts' },
        practice && practice.registration && practice.registration.state !== 'registered'
          ? [h('dt', {}, 'Texting'), h('dd', { class: 'registration-note' }, `${practice.registration.summary}. `,
            h('a', { href: 'settings#registration' }, 'What to do'))] : null,
        h('dt', {}, 'Location'), h('dd', {}, line.location_name || '—'),
        h('dt', {}, 'Calls'), h('dd', {}, line.routing_summary || '—'),
        line.status_reason && line.status !== 'enabled' && !line.hosted_order ? [h('dt', {}, 'Status'), h('dd', {}, line.status_reason)] : null,
        hostedOrderFacts(line),
        h('dt', {}, 'Source'), h('dd', {}, line.source === 'hosted' ? 'Text-enabled landline' : 'Bought')),
      ctx.isManager ? hostedOrderActions(line) : null);
  }

  // The carrier order behind a text-enabled landline, in the clinic's words, until texting is on.
  function hostedOrderFacts(line) {
    const order = line.hosted_order;
    if (line.source !== 'hosted' || !order || line.status === 'enabled') return null;
    return [
      h('dt', {}, 'Order'), h('dd', { class: `order-${order.status}` }, order.summary),
      order.status === 'action-required' && order.next_step
        ? [h('dt', {}, 'Next step'), h('dd', { class: 'next-step' }, order.next_step)] : null,
      order.loa_summary || order.loa_email ? [h('dt', {}, 'Letter of authorization'),
        h('dd', { class: 'loa-status', 'data-loa': order.loa_status || 'unknown' },
          order.loa_summary || `Twilio emails it to ${order.loa_email} for signing once the number is verified`)] : null,
    ];
  }

  function hostedOrderActions(line) {
    if (line.source !== 'hosted') return null;
    if (line.status === 'pending') {
      return h('div', { class: 'actions order-actions' }, button('Cancel order', () => orderStep(line, 'cancel',
        `The order for ${line.number_display} was cancelled; the number is free again.`), { class: 'small' }));
    }
    if (line.status === 'failed') {
      return h('div', { class: 'actions order-actions' }, button('Retry order', () => orderStep(line, 'retry',
        `${line.number_display} was ordered again.`), { class: 'small' }));
    }
    return null;
  }

  async function orderStep(line, step, message) {
    try {
      await post(`${base}/lines/${seg(line.line_id)}/order/${step}`);
      announce(message);
      await load();
    } catch (error) { alertProblem(error); }
  }

  function menu(line) {
    const details = h('details', { class: 'menu' });
    const run = (label, action) => h('li', {}, button(label, async () => {
      details.open = false;
      try { await action(); } catch (error) { alertProblem(error); }
    }));
    const canRelease = line.status === 'disabled' || line.status === 'failed';
    details.append(h('summary', { 'aria-label': `Settings for ${line.display_name}` }, 'Settings'),
      h('ul', { class: 'menu-items' },
        line.status === 'enabled' ? run('Disable texting', () => change(line, 'disable', 'disabled')) : null,
        line.status === 'disabled' ? run('Enable texting', () => change(line, 'enable', 'enabled')) : null,
        line.status === 'enabled' && !line.primary ? run('Set as primary', () => change(line, 'primary', 'the primary line')) : null,
        h('li', {}, h('a', { href: `lines/${encodeURIComponent(line.line_id)}#forwarding` }, 'Forward calls…')),
        h('li', {}, h('a', { href: `lines/${encodeURIComponent(line.line_id)}` }, 'Line settings…')),
        canRelease ? run('Release number…', () => release(line))
          : h('li', { class: 'hint' }, 'Disable the line to release its number.')));
    return details;
  }

  function alertProblem(error) {
    const box = h('p', { class: 'error', role: 'alert' }, error.message);
    cards.before(box);
    setTimeout(() => box.remove(), 8000);
  }

  async function change(line, action, what) {
    await post(`${base}/lines/${seg(line.line_id)}/${action}`);
    announce(`${line.display_name} is now ${what}.`);
    await load();
  }

  async function release(line) {
    const done = await confirmDialog({
      title: `Release ${line.number_display}?`,
      body: ['The number goes back to the carrier. This cannot be undone; its conversations stay readable.'],
      confirmLabel: 'Release number', danger: true,
      typed: { label: `Type ${line.number_display} to confirm`, field: 'confirm_number', inputmode: 'tel',
        matches: (typed) => sameNumber(typed, line.number) },
      onConfirm: (typed) => post(`${base}/lines/${seg(line.line_id)}/release`, { confirm_number: typed }),
    });
    if (done) { announce(`${line.number_display} was released.`); await load(); }
  }

  function toggleAdd(open = addPanel.hidden) {
    addPanel.hidden = !open;
    addButton.setAttribute('aria-expanded', String(open));
    if (open) { drawAdd(); addPanel.querySelector('input').focus(); }
  }

  function drawAdd() {
    const buyId = nextId('how');
    const hostId = nextId('how');
    const buy = buyForm();
    const host = hostForm();
    host.hidden = true;
    const choose = (which) => { buy.hidden = which !== 'buy'; host.hidden = which !== 'host'; };
    replace(addPanel, h('h2', { id: 'add-line-title' }, 'Add a line'),
      h('fieldset', { class: 'choice' }, h('legend', {}, 'How'),
        h('span', { class: 'check' }, h('input', { type: 'radio', name: 'how', id: buyId, checked: true, onchange: () => choose('buy') }),
          h('label', { for: buyId }, 'Buy a new number')),
        h('span', { class: 'check' }, h('input', { type: 'radio', name: 'how', id: hostId, onchange: () => choose('host') }),
          h('label', { for: hostId }, 'Text-enable a landline the clinic owns'))),
      buy, host, button('Cancel', () => toggleAdd(false), { class: 'link' }));
  }

  function buyForm() {
    const areaCode = field({ label: 'Area code', name: 'area_code', inputmode: 'numeric', maxlength: 3, pattern: '[2-9][0-9]{2}',
      autocomplete: 'off', placeholder: '415' });
    const results = h('fieldset', { class: 'available', 'data-field': 'number', tabindex: '-1' },
      h('legend', {}, 'Available numbers'), h('p', { class: 'hint' }, 'Search an area code to see numbers for sale.'));
    const name = field({ label: 'Display name', name: 'display_name', required: true, maxlength: 80, placeholder: 'Front desk' });
    const search = h('button', { type: 'button', class: 'small' }, 'Search numbers');
    const form = h('form', { class: 'stack', 'aria-label': 'Buy a new number', novalidate: true },
      h('div', { class: 'inline' }, areaCode, search), results, name,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Buy number')));
    search.addEventListener('click', async () => {
      const code = areaCode.querySelector('input').value.trim();
      const found = await submitting(form, () => get(`${base}/available-numbers?area_code=${encodeURIComponent(code)}`));
      if (!found) return;
      replace(results, h('legend', {}, `Available numbers in ${code}`),
        found.length ? h('div', { class: 'options' }, found.map((n) => {
          const id = nextId('num');
          return h('span', { class: 'check' }, h('input', { type: 'radio', name: 'number', id, value: n.phone_number }),
            h('label', { for: id }, formatPhone(n.phone_number), h('span', { class: 'hint' },
              ` ${[n.locality, n.region].filter(Boolean).join(', ')}`)));
        })) : emptyState('None for sale in that area code; try another.'));
      const first = results.querySelector('input');
      if (first) first.focus();
    });
    areaCode.querySelector('input').addEventListener('keydown', (event) => {
      if (event.key === 'Enter') { event.preventDefault(); search.click(); }
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const picked = form.querySelector('input[name="number"]:checked');
      if (!picked) { showErrors(form, { errors: [{ field: 'number', reason: 'Pick a number to buy (search an area code first).' }] }); return; }
      const line = await submitting(form, () => post(`${base}/lines/purchase`,
        { display_name: name.querySelector('input').value.trim(), number: picked.value }));
      if (line) added(line, `${line.number_display} is yours and ready to text.`);
    });
    return form;
  }

  function hostForm() {
    const name = field({ label: 'Display name', name: 'display_name', required: true, maxlength: 80, placeholder: 'Main office' });
    const number = field({ label: 'Landline number', name: 'number', type: 'tel', required: true, autocomplete: 'off',
      placeholder: '(415) 555-2671', hint: 'The clinic’s existing number; it keeps working for calls.' });
    const loa = h('fieldset', { class: 'loa', 'data-field': 'authorization' }, h('legend', {}, 'Letter of Authorization'),
      h('p', { class: 'hint' }, 'Signed by someone director level or above at the clinic.'),
      field({ label: 'Signer’s name', name: 'signer_name', field: 'authorization.signer_name', required: true, maxlength: 120 }),
      field({ label: 'Signer’s title', name: 'signer_title', field: 'authorization.signer_title', required: true, maxlength: 120,
        placeholder: 'Practice Director' }),
      field({ label: 'Signer’s email', name: 'signer_email', field: 'authorization.signer_email', type: 'email', required: true }),
      field({ label: 'Signed on', name: 'signed_on', field: 'authorization.signed_on', type: 'date', required: true }));
    const contact = orderContactFields();
    const form = h('form', { class: 'stack', 'aria-label': 'Text-enable a landline', novalidate: true }, businessAddress(),
      name, number, loa, contact,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Text-enable')));
    const value = (n) => form.querySelector(`[name="${n}"]`).value.trim();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const line = await submitting(form, () => post(`${base}/lines`, {
        display_name: value('display_name'), number: value('number'),
        authorization: { signer_name: value('signer_name'), signer_title: value('signer_title'),
          signer_email: value('signer_email'), signed_on: value('signed_on') },
        contact: { phone: value('contact_phone'), email: value('contact_email') },
      }));
      if (line) added(line, `${line.number_display} is pending: the carrier is processing the order (usually about two weeks).`);
    });
    return form;
  }

  // Twilio takes a hosted-number order only for a business address (an Address) it holds: the practice's.
  function businessAddress() {
    const a = practice && practice.address;
    return h('div', { class: 'practice-address', 'data-field': 'address', tabindex: '-1' }, a
      ? h('p', { class: 'hint' }, `Ordered for ${a.customer_name}, ${[a.street, a.street_secondary].filter(Boolean).join(', ')}, `,
        `${a.city}, ${a.region} ${a.postal_code} (`, h('a', { href: 'settings#address' }, 'change'), ').')
      : h('p', { class: 'notice address-needed' }, 'Twilio needs the practice’s business address before it text-enables a ',
        'number: ', h('a', { href: 'settings#address' }, 'add the address in Practice settings'), ' first.'));
  }

  // Twilio calls and emails this person about the order; the landline itself gets the verification call.
  function orderContactFields() {
    return h('fieldset', { class: 'order-contact', 'data-field': 'contact' }, h('legend', {}, 'Who Twilio contacts'),
      field({ label: 'Your phone', name: 'contact_phone', field: 'contact.phone', type: 'tel',
        hint: 'Twilio calls this about the order; not the landline being text-enabled.' }),
      field({ label: 'Your email', name: 'contact_email', field: 'contact.email', type: 'email',
        hint: 'Twilio emails the letter of authorization here to be signed.' }));
  }

  async function added(line, message) {
    toggleAdd(false);
    await load();
    const notice = h('p', { class: 'notice', role: 'status' }, message);
    cards.before(notice);
    setTimeout(() => notice.remove(), 15000);
    const link = cards.querySelector(`[data-line-id="${line.line_id}"] h2 a`);
    if (link) link.focus();
  }

  const onFocus = () => load().catch(() => {});
  window.addEventListener('focus', onFocus);
  await load();
  return () => { clearTimeout(timer); clearTimeout(reopenTimer); window.removeEventListener('focus', onFocus); };
}
