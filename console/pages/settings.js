// Practice settings: hours, closures and holiday calendar, after-hours and HELP texts, quick responses,
// locations. Also "Open a practice" for enterprise admins.

import { del, get, patch, post, put, seg } from '../lib/api.js';
import { announce, button, confirmDialog, emptyState, field, h, replace, section, submitting } from '../lib/dom.js';
import { afterHoursEditor, closuresEditor, hoursEditor } from '../lib/editors.js';
import { timezones } from '../lib/format.js';
import { registrationBadge } from './lines.js';

const US_STATES = ('AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ NM NY NC ND '
  + 'OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR VI GU AS MP').split(' ');
const CALENDARS = [['', 'None'], ['US', 'United States (federal)'], ['CA', 'Canada (national)'], ['US-CA', 'US — California'],
  ['US-NY', 'US — New York'], ['US-TX', 'US — Texas'], ['US-FL', 'US — Florida'], ['CA-ON', 'Canada — Ontario'],
  ['CA-QC', 'Canada — Quebec'], ['CA-BC', 'Canada — British Columbia']];

export default async function render(view, ctx) {
  const base = seg('practices', ctx.practiceId);
  let [practice, quick, resources, lines] = await Promise.all([
    get(base), get(`${base}/quick-responses`), get(`${base}/resources`), get(`${base}/lines`)]);
  view.append(h('div', { class: 'page-head' }, h('h1', {}, 'Practice settings')),
    registration(), practiceForm(), addressForm(), quickResponses(), locations());
  return null;

  // The clinic's business address (not a patient's): Twilio holds it as an Address and every hosted-number order names it.
  function addressForm() {
    const a = practice.address || {};
    const form = h('form', { class: 'panel stack', id: 'address', 'aria-labelledby': 'address-title', novalidate: true },
      h('h2', { id: 'address-title' }, 'Business address'),
      h('p', { class: 'hint' }, 'Twilio needs the address of the business that owns the clinic’s numbers before it text-enables ',
        'a landline. Saving it here saves it with Twilio too.'),
      field({ label: 'Business name', name: 'customer_name', value: a.customer_name, maxlength: 100, required: true,
        hint: 'As the phone company knows the owner of the numbers.' }),
      field({ label: 'Street', name: 'street', value: a.street, maxlength: 100, required: true, autocomplete: 'address-line1' }),
      field({ label: 'Suite, floor (optional)', name: 'street_secondary', value: a.street_secondary, maxlength: 100,
        autocomplete: 'address-line2' }),
      h('div', { class: 'inline' },
        field({ label: 'City', name: 'city', value: a.city, maxlength: 100, required: true, autocomplete: 'address-level2' }),
        field({ label: 'State', name: 'region', type: 'select', value: a.region || '',
          options: [['', 'Choose…'], ...US_STATES.map((s) => [s, s])] }),
        field({ label: 'ZIP code', name: 'postal_code', value: a.postal_code, inputmode: 'numeric', maxlength: 10,
          required: true, autocomplete: 'postal-code', placeholder: '60606' })),
      h('p', { class: 'hint' }, 'Country: United States.'),
      a.address_sid ? h('p', { class: 'hint saved-address' }, `Saved with Twilio as Address ${a.address_sid}.`)
        : h('p', { class: 'hint saved-address' }, 'Not saved yet: text-enabling a landline waits for it.'),
      ctx.isManager ? h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save address')) : null);
    const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const saved = await submitting(form, () => put(`${base}/address`, {
        customer_name: val('customer_name'), street: val('street'), street_secondary: val('street_secondary') || null,
        city: val('city'), region: val('region'), postal_code: val('postal_code'), iso_country: 'US',
      }));
      if (saved) {
        practice = saved;
        announce('Business address saved with Twilio.');
        form.querySelector('.saved-address').textContent = `Saved with Twilio as Address ${saved.address.address_sid}.`;
      }
    });
    return form;
  }

  function registration() {
    const box = h('div', { class: 'stack' });
    const panel = h('section', { class: 'panel', id: 'registration', 'aria-labelledby': 'registration-title' },
      h('h2', { id: 'registration-title' }, 'Carrier registration (A2P 10DLC)'),
      h('p', { class: 'hint' }, 'US carriers only deliver business texts from local numbers registered for it: a brand (who the ',
        'practice is) and a campaign (what it texts patients about) on the practice’s Messaging Service, reviewed by the ',
        'carriers. Until the campaign is registered, carriers block the practice’s texts (Twilio error 30034), and ',
        'Switchboard refuses reminders and campaigns rather than queue texts that would fail.'), box);
    function draw() {
      const r = practice.registration || { state: 'not_registered', summary: 'Not registered', next_step: '' };
      replace(box, h('p', {}, registrationBadge(r), ' ', h('span', { 'data-registration': r.state }, r.summary)),
        h('p', {}, h('strong', {}, 'Next: '), r.next_step),
        r.checked_at ? h('p', { class: 'hint' }, `Checked with the carrier ${new Date(r.checked_at).toLocaleString()}.`) : null,
        practice.messaging_service_sid ? h('p', { class: 'hint' }, `Messaging Service ${practice.messaging_service_sid}`)
          : h('p', { class: 'hint' }, 'The Messaging Service is made with the practice’s first line.'),
        ctx.isManager && practice.messaging_service_sid ? h('div', { class: 'actions' }, button('Check now', async (event) => {
          const done = await submitting(event.target.closest('.actions'),
            () => post(`${base}/registration/check`, {}));
          if (done) { practice = done; announce(`Registration: ${done.registration.summary}.`); draw(); }
        }, { class: 'small' })) : null);
    }
    draw();
    return panel;
  }

  function practiceForm() {
    const hours = hoursEditor(practice.hours);
    const closures = closuresEditor(practice.closures);
    const reply = afterHoursEditor(practice.after_hours);
    const calendar = field({ label: 'Public-holiday calendar', name: 'holiday_calendar', type: 'select',
      options: CALENDARS.some(([v]) => v === (practice.holiday_calendar || '')) ? CALENDARS
        : [...CALENDARS, [practice.holiday_calendar, practice.holiday_calendar]],
      value: practice.holiday_calendar || '', hint: 'Closed on these public holidays, on top of the closures above.' });
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'practice-title', novalidate: true },
      h('h2', { id: 'practice-title' }, practice.name),
      field({ label: 'Name', name: 'name', value: practice.name, maxlength: 120, required: true }),
      field({ label: 'Timezone', name: 'timezone', type: 'select', options: timezones().map((z) => [z, z.replace(/_/g, ' ')]),
        value: practice.timezone }),
      hours.el, closures.el, calendar, reply.el,
      field({ label: 'HELP reply', name: 'help_text', type: 'textarea', rows: 2, maxlength: 640, value: practice.help_text,
        hint: 'Sent when a patient texts HELP or INFO.' }),
      field({ label: 'Duplicate window (minutes)', name: 'duplicate_window_minutes', type: 'number', min: 1, max: 1440,
        value: practice.duplicate_window_minutes, hint: 'A caller reaching the practice again within this window gets no second text.' }),
      'quiet_hours' in practice ? h('fieldset', { 'data-field': 'quiet_hours' }, h('legend', {}, 'Quiet hours (no texts the clinic starts)'),
        h('div', { class: 'inline' },
          field({ label: 'From', name: 'quiet_starts', field: 'quiet_hours.starts', type: 'time', value: (practice.quiet_hours || {}).starts || '21:00' }),
          field({ label: 'To', name: 'quiet_ends', field: 'quiet_hours.ends', type: 'time', value: (practice.quiet_hours || {}).ends || '08:00' })))
        : null,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save settings')));
    const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const saved = await submitting(form, () => patch(base, {
        name: val('name'), timezone: val('timezone'), hours: hours.value(), closures: closures.value(),
        holiday_calendar: val('holiday_calendar') || null, after_hours: reply.value(), help_text: val('help_text'),
        duplicate_window_minutes: Number(val('duplicate_window_minutes')),
        ...('quiet_hours' in practice ? { quiet_hours: { starts: val('quiet_starts'), ends: val('quiet_ends') } } : {}),
        version: practice.version,
      }));
      if (saved) {
        practice = saved;
        announce('Practice settings saved.');
        const note = h('p', { class: 'notice', role: 'status' }, 'Saved.');
        form.querySelector('.actions').append(note);
        setTimeout(() => note.remove(), 4000);
        await ctx.refreshPractices();
      }
    });
    return form;
  }

  function quickResponses() {
    const box = h('div', {});
    const panel = section('Quick responses', h('p', { class: 'hint' }, 'Canned replies staff insert in the inbox (type !! in a reply).'), box);
    async function reload() { quick = await get(`${base}/quick-responses`); draw(); }
    function editor(existing) {
      const form = h('form', { class: 'stack quick-form', 'aria-label': existing ? `Edit ${existing.title}` : 'New quick response', novalidate: true },
        h('div', { class: 'inline' },
          field({ label: 'Title', name: 'title', value: existing ? existing.title : '', maxlength: 80, required: true }),
          field({ label: 'Language', name: 'language', value: existing ? existing.language : 'en', maxlength: 12,
            hint: 'en, es, zh, fr-CA…' })),
        field({ label: 'Text', name: 'body', type: 'textarea', rows: 2, maxlength: 1600, value: existing ? existing.body : '', required: true }),
        h('div', { class: 'actions' }, existing ? button('Cancel', () => draw(), { class: 'link' }) : null,
          h('button', { type: 'submit', class: existing ? 'primary' : '' }, existing ? 'Save quick response' : 'Add quick response')));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
        const body = { title: val('title'), language: val('language') || 'en', body: val('body') };
        const done = await submitting(form, () => (existing
          ? patch(`${base}/quick-responses/${seg(existing.quick_response_id)}`, body)
          : post(`${base}/quick-responses`, body)));
        if (done) { announce(`Quick response ${done.title} saved.`); await reload(); }
      });
      return form;
    }
    function draw(editing = null) {
      replace(box, quick.length ? h('ul', { class: 'plain quick-list' }, quick.map((q) => h('li', {},
        editing === q.quick_response_id ? editor(q) : [
          h('strong', {}, q.title), ` (${q.language}) `, h('span', { class: 'hint' }, q.body), ' ',
          button('Edit', () => draw(q.quick_response_id), { class: 'link', 'aria-label': `Edit ${q.title}` }),
          button('Delete', async () => {
            const gone = await confirmDialog({ title: `Delete ${q.title}?`, confirmLabel: 'Delete', danger: true,
              onConfirm: () => del(`${base}/quick-responses/${seg(q.quick_response_id)}`).then(() => true) });
            if (gone) await reload();
          }, { class: 'link', 'aria-label': `Delete ${q.title}` })]))) : emptyState('No quick responses yet.'),
      editing ? null : editor(null));
    }
    draw();
    return panel;
  }

  function locations() {
    const box = h('div', {});
    const panel = section('Locations', h('p', { class: 'hint' }, 'A location texts from the line linked to it (link it on the line’s page).'), box);
    const lineName = (id) => { const l = lines.find((x) => x.line_id === id); return l ? `${l.display_name} · ${l.number_display}` : null; };
    function draw() {
      const form = h('form', { class: 'inline', 'aria-label': 'Add a location', novalidate: true },
        field({ label: 'New location', name: 'name', maxlength: 120, placeholder: 'Downtown clinic' }),
        h('button', { type: 'submit' }, 'Add location'));
      form.addEventListener('submit', async (event) => {
        event.preventDefault();
        const name = form.querySelector('[name="name"]').value.trim();
        const done = await submitting(form, () => post(`${base}/resources`, { name }));
        if (done) { resources = await get(`${base}/resources`); announce(`${done.name} added.`); draw(); }
      });
      replace(box, resources.length ? h('ul', { class: 'plain' }, resources.map((r) => h('li', {}, r.name, ' — ',
        h('span', { class: 'hint' }, lineName(r.line_id) ? `texts from ${lineName(r.line_id)}` : 'no line linked')))) : emptyState('No locations yet.'),
      form);
    }
    draw();
    return panel;
  }
}

export async function renderNewPractice(view, ctx) {
  const form = h('form', { class: 'panel stack', 'aria-labelledby': 'new-practice', novalidate: true },
    h('h1', { id: 'new-practice' }, 'Open a practice'),
    field({ label: 'Name', name: 'name', maxlength: 120, required: true, placeholder: 'Bay Family Clinic' }),
    field({ label: 'Timezone', name: 'timezone', type: 'select', options: timezones().map((z) => [z, z.replace(/_/g, ' ')]),
      value: Intl.DateTimeFormat().resolvedOptions().timeZone }),
    h('p', { class: 'hint' }, 'Hours start as Monday to Friday, 8:00 to 17:00; change them on the Practice settings page.'),
    h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Open practice')));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
    const made = await submitting(form, () => post('practices', { name: val('name'), timezone: val('timezone') }));
    if (!made) return;
    sessionStorage.setItem('sb.practice', made.practice_id);
    await ctx.refreshPractices();
    ctx.navigate('lines');
  });
  view.append(form);
  return null;
}
