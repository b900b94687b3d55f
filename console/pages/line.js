// Line detail: emergency close, settings (timezone, location, hours, the line's own closures, after-hours reply), call
// forwarding, linked locations.

import { del, get, patch, post, put, seg } from '../lib/api.js';
import { announce, button, emptyState, field, h, nextId, replace, section, submitting } from '../lib/dom.js';
import { afterHoursEditor, closuresEditor, hoursEditor, ringGroupEditor, ringWindowsEditor } from '../lib/editors.js';
import { isoToWallClock, timezones, wallClockToIso } from '../lib/format.js';
import { closedNow, lineBadges } from './lines.js';

const VOICES = ['alice', 'man', 'woman', 'Polly.Joanna', 'Polly.Matthew', 'Polly.Lupe', 'Polly.Miguel'];

export default async function render(view, ctx, [lineId]) {
  const base = seg('practices', ctx.practiceId);
  const [line, practice, lines, resources] = await Promise.all([
    get(`${base}/lines/${seg(lineId)}`), get(base), get(`${base}/lines`), get(`${base}/resources`)]);
  let current = line;
  const head = h('div', { class: 'page-head' });
  const drawHead = () => replace(head, h('div', {},
    h('p', { class: 'crumbs' }, h('a', { href: 'lines' }, 'Phone numbers')),
    h('h1', {}, current.display_name), h('p', { class: 'number' }, current.number_display), lineBadges(current),
    closedNow(current, practice.timezone),
    current.routing_summary ? h('p', { class: 'hint' }, `Calls: ${current.routing_summary}`) : null));
  drawHead();
  view.append(head);
  if (!ctx.isManager) {
    view.append(section('Settings', h('dl', { class: 'facts' },
      h('dt', {}, 'Timezone'), h('dd', {}, current.timezone || `${practice.timezone} (the practice’s)`),
      h('dt', {}, 'Location'), h('dd', {}, current.location_name || '—'))));
    return null;
  }
  // The forwarding form's times are read in the line's timezone; saving the settings may change it.
  const zoneNote = h('p', { class: 'hint zone-note' });
  const drawZone = () => {
    zoneNote.textContent = current.timezone ? `Times below are in ${current.timezone}.`
      : `Times below are in ${practice.timezone}: this line has no timezone of its own, so it uses the practice’s.`;
  };
  drawZone();
  view.append(emergencyPanel(), settingsForm(), forwardingForm(), linkedLocations());
  if (location.hash === '#forwarding') {
    const target = view.querySelector('#forwarding');
    target.scrollIntoView();
    target.querySelector('input').focus();
  }
  return null;

  // Close the line now (a burst pipe, a power cut): texts get the after-hours reply and calls the after-hours route
  // until the reopening time, which is read on the line's clock.
  function emergencyPanel() {
    const panel = h('form', { id: 'emergency', class: 'panel stack', 'aria-labelledby': 'emergency-title', novalidate: true });
    const zoneOf = () => current.timezone || practice.timezone;
    function draw() {
      const reason = field({ label: 'Reason', name: 'emergency_reason', field: 'reason', maxlength: 120, required: true,
        placeholder: 'Burst pipe in the waiting room', hint: 'For staff and the audit trail; patients get the after-hours reply.' });
      const inTwoHours = Math.ceil((Date.now() + 2 * 3600000) / 900000) * 900000;
      const reopens = field({ label: 'Reopens at', name: 'emergency_reopens', field: 'reopens_at', type: 'datetime-local',
        value: isoToWallClock(inTwoHours, zoneOf()), required: true,
        hint: `In ${zoneOf()}. At most 14 days ahead; the line reopens by itself then.` });
      replace(panel, h('h2', { id: 'emergency-title' }, 'Emergency close'),
        current.closed_now
          ? [h('p', { class: 'hint' }, 'Closed now (see above): texts get the after-hours reply and calls the after-hours route until it reopens.'),
            h('div', { class: 'actions' }, button('Reopen now', reopen, { class: 'primary' }))]
          : [h('p', { class: 'hint' }, 'Close this line at once, whatever its hours: texts get the after-hours reply, calls the after-hours route.'),
            reason, reopens, h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'danger' }, 'Close now'))]);
    }
    async function reopen() {
      const saved = await submitting(panel, () => del(`${base}/lines/${seg(lineId)}/emergency-close`));
      if (saved) { current = { ...current, ...saved }; drawHead(); draw(); announce(`${current.display_name} is open again.`); }
    }
    panel.addEventListener('submit', async (event) => {
      event.preventDefault();
      const value = (n) => panel.querySelector(`[name="${n}"]`).value.trim();
      const saved = await submitting(panel, () => post(`${base}/lines/${seg(lineId)}/emergency-close`, {
        reason: value('emergency_reason'), reopens_at: wallClockToIso(value('emergency_reopens'), zoneOf()),
      }));
      if (saved) { current = { ...current, ...saved }; drawHead(); draw(); announce(`${current.display_name} is closed now.`); }
    });
    draw();
    return panel;
  }

  function settingsForm() {
    const zone = field({ label: 'Timezone', name: 'timezone', type: 'select',
      options: [['', `The practice’s (${practice.timezone})`], ...timezones().map((z) => [z, z.replace(/_/g, ' ')])],
      value: current.timezone || '', hint: 'Calls and after-hours replies follow this timezone, and so do the hours below.' });
    const name = field({ label: 'Display name', name: 'display_name', value: current.display_name, maxlength: 80, required: true });
    // A location typed before locations were picked stays until another is chosen: it is not one of the options.
    const typed = !current.location && current.location_name ? 'typed' : null;
    const place = field({ label: 'Location', name: 'location', type: 'select',
      options: [['', 'None'], typed ? [typed, `${current.location_name} (typed earlier; pick a location)`] : null,
        ...resources.map((r) => [r.resource_id, r.name])].filter(Boolean),
      value: typed || current.location || '', hint: 'Which of the practice’s locations uses this line. Locations are added on the Practice settings page.' });
    const ownHours = field({ label: 'This line keeps its own hours (instead of the practice’s)', name: 'own_hours',
      type: 'checkbox', value: Boolean(current.hours) });
    const hours = hoursEditor(current.hours || practice.hours);
    hours.el.hidden = !current.hours;
    ownHours.querySelector('input').addEventListener('change', (e) => { hours.el.hidden = !e.target.checked; });
    const ownReply = field({ label: 'This line has its own after-hours reply', name: 'own_reply', type: 'checkbox',
      value: Boolean(current.after_hours) });
    const reply = afterHoursEditor(current.after_hours || practice.after_hours);
    reply.el.hidden = !current.after_hours;
    ownReply.querySelector('input').addEventListener('change', (e) => { reply.el.hidden = !e.target.checked; });
    const closures = closuresEditor(current.closures, 'closures',
      { clock: 'this line’s clock (its timezone, else the practice’s)', legend: 'This line’s own closures (beside the practice’s)' });
    const help = field({ label: 'HELP reply', name: 'help_text', type: 'textarea', value: current.help_text || '', rows: 2,
      maxlength: 640, hint: `Sent when a patient texts HELP. Empty: the practice’s (“${practice.help_text}”).` });
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'line-settings', novalidate: true },
      h('h2', { id: 'line-settings' }, 'Settings'), zone, name, place, ownHours, hours.el, closures.el, ownReply, reply.el, help,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save settings')));
    const value = (n) => form.querySelector(`[name="${n}"]`).value.trim();
    const shownLocation = () => (!current.location && current.location_name ? 'typed' : current.location || '');
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const picked = value('location');
      const saved = await submitting(form, () => patch(`${base}/lines/${seg(lineId)}`, {
        display_name: value('display_name'), timezone: value('timezone') || null,
        ...(picked !== shownLocation() ? { location: picked || null } : {}),
        hours: form.querySelector('[name="own_hours"]').checked ? hours.value() : null,
        closures: closures.value().length || current.closures ? closures.value() : null,
        after_hours: form.querySelector('[name="own_reply"]').checked ? reply.value() : null,
        help_text: value('help_text') || null, version: current.version,
      }));
      if (saved) {
        current = { ...current, ...saved, routing_summary: saved.routing_summary || current.routing_summary };
        drawHead(); drawZone(); announce('Line settings saved.'); saved_(form);
      }
    });
    return form;
  }

  function forwardingForm() {
    const forwarding = current.forwarding || {};
    const windows = forwarding.ring_windows || [];
    const mode = forwarding.linked_line_id ? 'linked'
      : (forwarding.open_hours || forwarding.after_hours || windows.length ? 'forward' : 'none');
    const radios = [['none', 'No call routing (callers hear that the number is for texts)'], ['forward', 'Forward calls'],
      ['linked', 'Follow another line’s routing (linked line)']];
    const name = nextId('mode');
    const choice = h('fieldset', { class: 'choice' }, h('legend', {}, 'Calls to this number'), radios.map(([v, label]) => {
      const id = nextId('mode');
      return h('span', { class: 'check' }, h('input', { type: 'radio', name, id, value: v, checked: v === mode,
        onchange: () => show(v) }), h('label', { for: id }, label));
    }));
    const open = ringGroupEditor(forwarding.open_hours, 'forwarding.open_hours', { legend: 'During open hours', optional: true });
    const ringWindows = ringWindowsEditor(windows, 'forwarding.ring_windows');
    const after = forwarding.after_hours || {};
    const afterMode = after.ring ? 'ring' : after.say ? 'say' : after.voicemail ? 'voicemail' : 'notice';
    const afterName = nextId('after');
    const afterChoice = h('fieldset', { class: 'choice', 'data-field': 'forwarding.after_hours' }, h('legend', {}, 'After hours and on closures'),
      [['notice', 'Play the closed notice'], ['ring', 'Ring other numbers'], ['say', 'Speak a message'], ['voicemail', 'Voicemail']]
        .map(([v, label]) => {
          const id = nextId('after');
          return h('span', { class: 'check' }, h('input', { type: 'radio', name: afterName, id, value: v, checked: v === afterMode,
            onchange: () => showAfter(v) }), h('label', { for: id }, label));
        }));
    const afterRing = ringGroupEditor(after.ring, 'forwarding.after_hours.ring',
      { legend: 'After-hours ring', label: 'After-hours number' });
    const thenVoicemail = field({ label: 'Then voicemail if nobody answers', name: 'then_voicemail', type: 'checkbox',
      value: Boolean(after.ring && after.voicemail) });
    thenVoicemail.querySelector('input').addEventListener('change', () => showAfter('ring'));
    const say = h('div', { class: 'stack' },
      field({ label: 'Spoken message', name: 'say_text', field: 'forwarding.after_hours.say.text', type: 'textarea', rows: 2,
        maxlength: 500, value: after.say ? after.say.text : '' }),
      field({ label: 'Voice', name: 'say_voice', field: 'forwarding.after_hours.say.voice', type: 'select',
        options: VOICES.map((v) => [v, v]), value: after.say ? after.say.voice : 'alice' }),
      field({ label: 'Language', name: 'say_language', field: 'forwarding.after_hours.say.language',
        value: after.say ? after.say.language : 'en-US', placeholder: 'en-US', maxlength: 5 }));
    const box = after.voicemail || {};
    const voicemail = h('fieldset', { class: 'stack', 'data-field': 'forwarding.after_hours.voicemail' }, h('legend', {}, 'Voicemail'),
      field({ label: 'Greeting', name: 'vm_greeting', field: 'forwarding.after_hours.voicemail.greeting', type: 'textarea', rows: 2,
        maxlength: 500, value: box.greeting || '', hint: 'Spoken before the beep.' }),
      field({ label: 'Longest message (seconds)', name: 'vm_max', field: 'forwarding.after_hours.voicemail.max_seconds',
        type: 'number', min: 10, max: 600, value: box.max_seconds || 120, hint: 'From 10 to 600 seconds.' }));
    const others = lines.filter((l) => l.line_id !== lineId && l.status !== 'released');
    const linked = field({ label: 'Line to follow', name: 'linked', field: 'forwarding.linked_line_id', type: 'select',
      options: [['', 'Choose a line'], ...others.map((l) => [l.line_id, `${l.display_name} · ${l.number_display}`])],
      value: forwarding.linked_line_id || '' });
    const linkedInfo = h('p', { class: 'hint' });
    const drawLinkedInfo = () => {
      const target = others.find((l) => l.line_id === linked.querySelector('select').value);
      linkedInfo.textContent = target ? `That line’s routing: ${target.routing_summary || 'none'}` : '';
    };
    linked.querySelector('select').addEventListener('change', drawLinkedInfo);
    drawLinkedInfo();
    const forwardPart = h('div', { class: 'stack' }, open.el, ringWindows.el, afterChoice, afterRing.el, thenVoicemail, say, voicemail);
    const linkedPart = h('div', { class: 'stack' }, linked, linkedInfo);
    function show(v) { forwardPart.hidden = v !== 'forward'; linkedPart.hidden = v !== 'linked'; }
    function showAfter(v) {
      const withVoicemail = thenVoicemail.querySelector('input').checked;
      afterRing.el.hidden = v !== 'ring'; thenVoicemail.hidden = v !== 'ring'; say.hidden = v !== 'say';
      voicemail.hidden = !(v === 'voicemail' || (v === 'ring' && withVoicemail));
    }
    show(mode);
    showAfter(afterMode);
    const form = h('form', { id: 'forwarding', class: 'panel stack', 'aria-labelledby': 'forwarding-title', novalidate: true },
      h('h2', { id: 'forwarding-title' }, 'Call forwarding'), zoneNote, choice, forwardPart, linkedPart,
      h('div', { class: 'actions' }, h('button', { type: 'submit', class: 'primary' }, 'Save call forwarding')));
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const chosen = form.querySelector(`input[name="${name}"]:checked`).value;
      const chosenAfter = form.querySelector(`input[name="${afterName}"]:checked`).value;
      const val = (n) => form.querySelector(`[name="${n}"]`).value.trim();
      const voicemailBox = () => ({ ...box, greeting: val('vm_greeting'),
        max_seconds: val('vm_max') === '' ? undefined : Number(val('vm_max')) });
      const afterHours = {
        notice: () => null,
        ring: () => ({ ring: afterRing.value(),
          ...(thenVoicemail.querySelector('input').checked ? { voicemail: voicemailBox() } : {}) }),
        say: () => ({ say: { text: val('say_text'), voice: val('say_voice'), language: val('say_language') } }),
        voicemail: () => ({ voicemail: voicemailBox() }),
      };
      let body = null;
      if (chosen === 'linked') body = { linked_line_id: val('linked') || null };
      if (chosen === 'forward') {
        body = { open_hours: open.value(), ring_windows: ringWindows.value(), after_hours: afterHours[chosenAfter]() };
      }
      const saved = await submitting(form, () => put(`${base}/lines/${seg(lineId)}/forwarding`, { forwarding: body }));
      if (saved) { current = { ...current, ...saved }; drawHead(); announce('Call forwarding saved.'); saved_(form); }
    });
    return form;
  }

  function linkedLocations() {
    const box = h('div', {});
    let all = resources;
    const form = h('form', { class: 'panel stack', 'aria-labelledby': 'linked-title', novalidate: true });
    async function reload() { all = await get(`${base}/resources`); draw(); }
    function draw() {
      const mine = all.filter((r) => r.line_id === lineId);
      const others = all.filter((r) => r.line_id !== lineId);
      const pick = field({ label: 'Location to link', name: 'resource', field: 'line_id', type: 'select',
        options: [['', 'Choose a location'], ...others.map((r) => [r.resource_id, r.line_id ? `${r.name} (now on another line)` : r.name])] });
      replace(box,
        mine.length ? h('ul', { class: 'plain' }, mine.map((r) => h('li', {}, r.name, ' ',
          button('Unlink', async () => {
            await submitting(form, () => put(`${base}/resources/${seg(r.resource_id)}/line`, { line_id: null }));
            await reload();
          }, { class: 'link', 'aria-label': `Unlink ${r.name}` })))) : emptyState('No location texts from this line.'),
        others.length ? h('div', { class: 'inline' }, pick, h('button', { type: 'submit', class: 'small' }, 'Link location')) : null,
        h('p', { class: 'hint' }, 'Locations are added on the Practice settings page. Only an enabled line can be linked.'));
    }
    form.append(h('h2', { id: 'linked-title' }, 'Linked locations'), box);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const resourceId = form.querySelector('[name="resource"]').value;
      if (!resourceId) return;
      const done = await submitting(form, () => put(`${base}/resources/${seg(resourceId)}/line`, { line_id: lineId }));
      if (done) { announce('Location linked.'); await reload(); }
    });
    draw();
    return form;
  }
}

function saved_(form) {
  const note = h('p', { class: 'notice', role: 'status' }, 'Saved.');
  form.querySelector('.actions').append(note);
  setTimeout(() => note.remove(), 4000);
}
