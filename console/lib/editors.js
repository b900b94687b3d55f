// Editors shared by the line and practice pages: weekly hours, the after-hours text with its translations,
// closures, a list of phone numbers and a ring group. Each returns { el, value() } and names its inputs with the API's
// field paths (data-field) so that errors land beside the right control.

import { button, field, h, nextId, replace } from './dom.js';
import { WEEKDAYS, formatPhone } from './format.js';

export function hoursEditor(hours, prefix = 'hours') {
  const state = Object.fromEntries(WEEKDAYS.map(([day]) => [day, ((hours || {})[day] || []).map((s) => ({ ...s }))]));
  const el = h('fieldset', { class: 'hours', 'data-field': prefix });
  const legendId = nextId('hours');
  function spanRow(day, label, span, index) {
    const opens = h('input', { type: 'time', value: span.opens, 'aria-label': `${label} span ${index + 1} opens`,
      'data-field': `${prefix}.${day}.${index}.opens`, required: true });
    const closes = h('input', { type: 'time', value: span.closes, 'aria-label': `${label} span ${index + 1} closes`,
      'data-field': `${prefix}.${day}.${index}.closes`, required: true });
    const overnight = h('span', { class: 'overnight' });
    const mark = () => {
      span.opens = opens.value; span.closes = closes.value;
      overnight.textContent = span.opens && span.closes && span.closes <= span.opens ? 'closes the next day' : '';
    };
    opens.addEventListener('input', mark);
    closes.addEventListener('input', mark);
    mark();
    return h('li', { class: 'span', 'data-field': `${prefix}.${day}.${index}` }, opens, h('span', { 'aria-hidden': 'true' }, '–'),
      closes, overnight,
      button('Remove', () => { state[day].splice(index, 1); draw(); }, { class: 'link', 'aria-label': `Remove ${label} span ${index + 1}` }));
  }
  function draw() {
    replace(el, h('legend', { id: legendId }, 'Opening hours'),
      h('p', { class: 'hint' }, 'Several spans a day for breaks; a span that closes earlier than it opens runs past midnight.'),
      WEEKDAYS.map(([day, label]) => h('div', { class: 'day', 'data-field': `${prefix}.${day}` },
        h('span', { class: 'day-name' }, label),
        state[day].length
          ? h('ul', { class: 'spans' }, state[day].map((span, i) => spanRow(day, label, span, i)))
          : h('span', { class: 'closed' }, 'Closed'),
        state[day].length < 6
          ? button('Add hours', () => { state[day].push({ opens: '09:00', closes: '17:00' }); draw(); },
            { class: 'small', 'aria-label': `Add hours on ${label}` })
          : null)));
  }
  draw();
  return {
    el,
    value: () => Object.fromEntries(WEEKDAYS.map(([day]) => [day, state[day].map((s) => ({ opens: s.opens, closes: s.closes }))])),
  };
}

export function afterHoursEditor(reply, prefix = 'after_hours', legend = 'After-hours reply') {
  const translations = Object.entries((reply && reply.translations) || {}).map(([language, text]) => ({ language, text }));
  const main = field({ label: 'Message', name: `${prefix}-text`, field: `${prefix}.text`, type: 'textarea',
    value: reply ? reply.text : '', maxlength: 640, rows: 3,
    hint: 'Sent once per closed period to a patient who texts while closed. Translations follow in the same text.' });
  const list = h('div', { class: 'translations' });
  const el = h('fieldset', { class: 'after-hours', 'data-field': prefix }, h('legend', {}, legend), main, list,
    button('Add translation', () => { translations.push({ language: '', text: '' }); draw(true); }, { class: 'small' }));
  function draw(focusLast = false) {
    replace(list, translations.map((t, i) => {
      const language = field({ label: `Translation ${i + 1} language`, name: `${prefix}-lang-${i}`,
        field: `${prefix}.translations`, value: t.language, placeholder: 'es', maxlength: 12,
        hint: 'A language code: es, zh, vi, fr-CA…', oninput: (e) => { t.language = e.target.value.trim(); } });
      const text = field({ label: `Translation ${i + 1} text`, name: `${prefix}-tr-${i}`,
        field: `${prefix}.translations.${t.language || '?'}`, type: 'textarea', value: t.text, rows: 2, maxlength: 640,
        oninput: (e) => { t.text = e.target.value; } });
      language.querySelector('input').addEventListener('change', () => {
        text.querySelector('textarea').dataset.field = `${prefix}.translations.${t.language}`;
      });
      return h('div', { class: 'translation' }, language, text,
        button('Remove', () => { translations.splice(i, 1); draw(); }, { class: 'link', 'aria-label': `Remove translation ${i + 1}` }));
    }));
    if (focusLast) { const inputs = list.querySelectorAll('input'); if (inputs.length) inputs[inputs.length - 1].focus(); }
  }
  draw();
  return {
    el,
    value: () => {
      const text = main.querySelector('textarea').value.trim();
      if (!text && !translations.length) return null;
      return { text, translations: Object.fromEntries(translations.map((t) => [t.language, t.text.trim()])) };
    },
  };
}

// Closures: dates or ranges, all day or part of a day (from a time on the first day, until a time on the last), read
// on the clock of `clock` (each line's timezone, else the practice's).
export function closuresEditor(closures, prefix = 'closures',
  { clock = 'each line’s clock (its timezone, else the practice’s)', legend = 'Closures' } = {}) {
  const state = (closures || []).map((c) => ({ ...c }));
  const el = h('fieldset', { class: 'closures', 'data-field': prefix });
  function draw() {
    replace(el, h('legend', {}, legend),
      h('p', { class: 'hint' }, `Closed from the first to the last date (inclusive), on ${clock}. `
        + 'Leave the times empty to close all day; “From” closes from that time on the first day, “Until” reopens at that time on the last.'),
      state.length ? h('ul', { class: 'plain' }, state.map((c, i) => h('li', { class: 'closure', 'data-field': `${prefix}.${i}` },
        field({ label: 'From', name: `closure-${i}-starts`, field: `${prefix}.${i}.starts`, type: 'date', value: c.starts,
          oninput: (e) => { c.starts = e.target.value; } }),
        field({ label: 'From time', name: `closure-${i}-from`, field: `${prefix}.${i}.from_time`, type: 'time',
          value: c.from_time || '', oninput: (e) => { c.from_time = e.target.value; } }),
        field({ label: 'To', name: `closure-${i}-ends`, field: `${prefix}.${i}.ends`, type: 'date', value: c.ends,
          oninput: (e) => { c.ends = e.target.value; } }),
        field({ label: 'Until time', name: `closure-${i}-until`, field: `${prefix}.${i}.until_time`, type: 'time',
          value: c.until_time || '', oninput: (e) => { c.until_time = e.target.value; } }),
        field({ label: 'Reason', name: `closure-${i}-reason`, field: `${prefix}.${i}.reason`, value: c.reason || '',
          maxlength: 120, oninput: (e) => { c.reason = e.target.value; } }),
        button('Remove', () => { state.splice(i, 1); draw(); }, { class: 'link', 'aria-label': `Remove closure ${i + 1}` }))))
        : h('p', { class: 'empty' }, 'No closures.'),
      button('Add closure', () => {
        const today = new Date().toISOString().slice(0, 10);
        state.push({ starts: today, ends: today, reason: '' });
        draw();
      }, { class: 'small' }));
  }
  draw();
  return {
    el,
    value: () => state.map((c) => ({ starts: c.starts, ends: c.ends || c.starts, reason: c.reason || '',
      ...(c.from_time ? { from_time: c.from_time } : {}), ...(c.until_time ? { until_time: c.until_time } : {}) })),
  };
}

// A list of phone numbers (a ring group): typed as people type them; the API validates and formats.
export function numbersEditor(numbers, prefix, label) {
  const state = (numbers && numbers.length ? numbers.map(formatPhone) : ['']);
  const el = h('div', { class: 'numbers', 'data-field': prefix });
  function draw(focusLast = false) {
    replace(el, state.map((n, i) => h('div', { class: 'number-row' },
      field({ label: `${label} ${i + 1}`, name: `${prefix}-${i}`, field: `${prefix}.${i}`, type: 'tel', value: n,
        autocomplete: 'off', oninput: (e) => { state[i] = e.target.value; } }),
      state.length > 1 ? button('Remove', () => { state.splice(i, 1); draw(); }, { class: 'link', 'aria-label': `Remove ${label.toLowerCase()} ${i + 1}` }) : null)),
    state.length < 10 ? button('Add a number', () => { state.push(''); draw(true); }, { class: 'small' }) : null);
    if (focusLast) { const inputs = el.querySelectorAll('input'); inputs[inputs.length - 1].focus(); }
  }
  draw();
  return { el, value: () => state.map((n) => n.trim()).filter(Boolean) };
}

// A ring group: its numbers, whether they ring together or one after another, and for how long.
export function ringGroupEditor(group, prefix, { legend, label = 'Number', optional = false } = {}) {
  const numbers = numbersEditor(group ? group.numbers : [], `${prefix}.numbers`, label);
  const modeName = nextId('ring-mode');
  const modes = h('fieldset', { class: 'choice', 'data-field': `${prefix}.mode` }, h('legend', {}, 'How the numbers ring'),
    [['simultaneous', 'Ring together'], ['in_order', 'Ring in order']].map(([v, text]) => {
      const id = nextId('ring-mode');
      return h('span', { class: 'check' }, h('input', { type: 'radio', name: modeName, id, value: v,
        checked: v === ((group && group.mode) || 'simultaneous'), onchange: () => labelTime() }), h('label', { for: id }, text));
    }));
  const time = field({ label: 'Ring time (seconds)', name: nextId('ring-time'), field: `${prefix}.timeout_seconds`,
    type: 'number', min: 5, max: 60, value: group ? group.timeout_seconds : 20, hint: 'From 5 to 60 seconds.' });
  const mode = () => modes.querySelector('input:checked').value;
  function labelTime() {
    time.querySelector('label').textContent = mode() === 'in_order' ? 'Ring time per number (seconds)' : 'Ring time (seconds)';
  }
  labelTime();
  const el = h('fieldset', { class: 'ring-group stack', 'data-field': prefix }, h('legend', {}, legend), numbers.el, modes, time);
  return {
    el,
    value: () => {
      const typed = numbers.value();
      if (optional && !typed.length) return null;
      const seconds = time.querySelector('input').value.trim();
      return { numbers: typed, mode: mode(), timeout_seconds: seconds === '' ? undefined : Number(seconds) };
    },
  };
}

// Ring windows: parts of the open hours on some weekdays that ring their own group instead of the open-hours one.
export function ringWindowsEditor(windows, prefix) {
  let rows = [];
  const list = h('div', { class: 'stack' });
  const add = button('Add a ring window', () => { build([...values(), { name: '', days: ['mon', 'tue', 'wed', 'thu', 'fri'],
    opens: '12:00', closes: '13:00', ring: null }]); list.querySelector('.ring-window:last-child input').focus(); }, { class: 'small' });
  const el = h('div', { class: 'ring-windows stack', 'data-field': prefix }, h('h4', {}, 'Ring windows'),
    h('p', { class: 'hint' }, 'Within open hours, these days and times ring their own numbers, e.g. a lunch-hour desk.'), list, add);
  const values = () => rows.map((r) => r.value());
  function row(w, i) {
    const at = `${prefix}.${i}`;
    const name = field({ label: `Window ${i + 1} name`, name: nextId('window-name'), field: `${at}.name`, value: w.name,
      maxlength: 60, placeholder: 'Lunch' });
    const days = h('fieldset', { class: 'choice', 'data-field': `${at}.days` }, h('legend', {}, `Window ${i + 1} days`),
      WEEKDAYS.map(([day, label]) => {
        const id = nextId('window-day');
        return h('span', { class: 'check' }, h('input', { type: 'checkbox', id, value: day, checked: (w.days || []).includes(day) }),
          h('label', { for: id }, label));
      }));
    const opens = field({ label: `Window ${i + 1} opens`, name: nextId('window-opens'), field: `${at}.opens`, type: 'time', value: w.opens });
    const closes = field({ label: `Window ${i + 1} closes`, name: nextId('window-closes'), field: `${at}.closes`, type: 'time', value: w.closes });
    const ring = ringGroupEditor(w.ring, `${at}.ring`, { legend: `Window ${i + 1} rings`, label: `Window ${i + 1} number` });
    const box = h('div', { class: 'ring-window stack', 'data-field': at }, name, days, h('div', { class: 'inline' }, opens, closes), ring.el,
      button('Remove', () => build(values().filter((_, n) => n !== i)), { class: 'link', 'aria-label': `Remove window ${i + 1}` }));
    return {
      box,
      value: () => ({ name: name.querySelector('input').value.trim(),
        days: [...days.querySelectorAll('input:checked')].map((c) => c.value),
        opens: opens.querySelector('input').value, closes: closes.querySelector('input').value, ring: ring.value() }),
    };
  }
  function build(all) {
    rows = all.map(row);
    replace(list, rows.map((r) => r.box));
    add.hidden = rows.length >= 28;
  }
  build(windows || []);
  return { el, value: values };
}
