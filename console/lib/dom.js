// DOM helpers: elements are built with createElement and textContent only (the CSP enforces Trusted Types).

let uid = 0;
export const nextId = (prefix = 'f') => `${prefix}-${++uid}`;

const PROPERTIES = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'open', 'indeterminate']);

export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  append(el, children);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2).toLowerCase(), value);
    else if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (PROPERTIES.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  return el;
}

export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

export function replace(el, ...children) {
  return append(clear(el), children);
}

export function announce(text) {
  const box = document.getElementById('announcer');
  if (!box) return;
  box.textContent = '';
  setTimeout(() => { box.textContent = text; }, 30);
}

// A labelled control with a hint and a slot for its error. `field` is the API's name for it (errors map to it).
export function field({ label, name, field: apiField, type = 'text', value, hint, control, options, ...rest }) {
  const id = nextId(name || 'f');
  const errorId = `${id}-error`;
  const hintId = hint ? `${id}-hint` : null;
  let input = control;
  if (!input && type === 'textarea') input = h('textarea', { id, name, ...rest });
  else if (!input && type === 'select') {
    input = h('select', { id, name, ...rest },
      (options || []).map(([v, text]) => h('option', { value: v }, text)));
  } else if (!input) input = h('input', { id, name, type, ...rest });
  input.id = input.id || id;
  if (value !== undefined && value !== null) {
    if (type === 'checkbox') input.checked = Boolean(value); else input.value = value;
  }
  input.dataset.field = apiField || name || '';
  input.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '));
  const labelEl = h('label', { for: input.id }, label);
  const parts = type === 'checkbox'
    ? [h('span', { class: 'check' }, input, labelEl)]
    : [labelEl, input];
  return h('div', { class: `field field-${type}` },
    parts,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'error', id: errorId, hidden: true }));
}

export function button(text, onClick, props = {}) {
  return h('button', { type: 'button', onclick: onClick, ...props }, text);
}

// Where an API error names a field, show its reason beside that control; the rest goes to the form's summary.
export function showErrors(form, error) {
  clearErrors(form);
  const loose = [];
  const problems = error && Array.isArray(error.errors) ? error.errors : [];
  for (const problem of problems) {
    const target = findTarget(form, String(problem.field || ''));
    if (!target) { loose.push(problem); continue; }
    const slot = errorSlot(target);
    slot.textContent = slot.textContent ? `${slot.textContent} ${problem.reason}` : problem.reason;
    slot.hidden = false;
    if (target.matches('input, select, textarea')) target.setAttribute('aria-invalid', 'true');
  }
  const summary = formSummary(form);
  const text = loose.length
    ? loose.map((p) => (p.field && p.field !== 'body' ? `${p.field}: ${p.reason}` : p.reason)).join(' ')
    : (problems.length ? '' : (error && error.message) || 'Something went wrong.');
  summary.textContent = text;
  summary.hidden = !text;
  const first = form.querySelector('[aria-invalid="true"]') || (text ? summary : null);
  if (first && first.focus) first.focus();
}

export function clearErrors(form) {
  for (const el of form.querySelectorAll('.error')) { el.textContent = ''; el.hidden = true; }
  for (const el of form.querySelectorAll('[aria-invalid]')) el.removeAttribute('aria-invalid');
}

function findTarget(form, name) {
  const parts = name.split('.');
  for (let n = parts.length; n > 0; n -= 1) {
    const key = parts.slice(0, n).join('.');
    const found = [...form.querySelectorAll('[data-field]')].find((el) => el.dataset.field === key);
    if (found) return found;
  }
  return null;
}

function errorSlot(target) {
  const describedBy = (target.getAttribute('aria-describedby') || '').split(' ').filter(Boolean);
  for (const id of describedBy) {
    const el = document.getElementById(id);
    if (el && el.classList.contains('error')) return el;
  }
  const id = nextId('err');
  const slot = h('p', { class: 'error', id, hidden: true });
  target.after(slot);
  target.setAttribute('aria-describedby', [...describedBy, id].join(' '));
  return slot;
}

function formSummary(form) {
  let summary = form.querySelector(':scope > .form-error');
  if (!summary) {
    summary = h('p', { class: 'error form-error', role: 'alert', tabindex: '-1', hidden: true });
    form.prepend(summary);
  }
  summary.classList.add('error');
  return summary;
}

// Runs an API call for a form: disables its submit button meanwhile, maps errors, returns the result or null.
export async function submitting(form, action) {
  const submit = form.querySelector('button[type="submit"]');
  clearErrors(form);
  const summary = form.querySelector(':scope > .form-error');
  if (summary) summary.hidden = true;
  if (submit) submit.disabled = true;
  form.setAttribute('aria-busy', 'true');
  try {
    return await action();
  } catch (error) {
    showErrors(form, error);
    return null;
  } finally {
    if (submit) submit.disabled = false;
    form.removeAttribute('aria-busy');
  }
}

// A modal confirmation; `typed` (optional) asks the user to type a value before confirming.
export function confirmDialog({ title, body, confirmLabel = 'Confirm', danger = false, typed, onConfirm }) {
  return new Promise((resolve) => {
    const titleId = nextId('dlg');
    const form = h('form', { method: 'dialog', class: 'stack' });
    const dialog = h('dialog', { 'aria-labelledby': titleId, class: 'dialog' }, form);
    const confirm = h('button', { type: 'submit', class: danger ? 'danger' : 'primary' }, confirmLabel);
    const cancel = button('Cancel', () => dialog.close('cancel'));
    let input = null;
    if (typed) {
      const typedField = field({ label: typed.label, name: typed.field, field: typed.field, autocomplete: 'off',
        inputmode: typed.inputmode });
      input = typedField.querySelector('input');
      const check = () => { confirm.disabled = !typed.matches(input.value); };
      input.addEventListener('input', check);
      check();
      typed.fieldEl = typedField;
    }
    append(form, [h('h2', { id: titleId }, title), [].concat(body || []).map((p) => (p instanceof Node ? p : h('p', {}, p))),
      typed ? typed.fieldEl : null, h('div', { class: 'actions' }, cancel, confirm)]);
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      if (!onConfirm) { dialog.close('ok'); return; }
      const done = await submitting(form, () => onConfirm(input ? input.value : undefined));
      if (done !== null) { dialog.close('ok'); resolve(done); }
    });
    dialog.addEventListener('close', () => {
      dialog.remove();
      if (dialog.returnValue !== 'ok') resolve(null);
      else if (!onConfirm) resolve(true);
    });
    document.body.append(dialog);
    dialog.showModal();
    (input || confirm).focus();
  });
}

export function badge(text, kind) {
  return h('span', { class: `badge badge-${kind || text.toLowerCase().replace(/[^a-z]+/g, '-')}` }, text);
}

export function section(title, ...children) {
  const id = nextId('sec');
  return h('section', { class: 'panel', 'aria-labelledby': id }, h('h2', { id }, title), children);
}

export function emptyState(text) {
  return h('p', { class: 'empty' }, text);
}

// A secret shown once (a webhook URL, an integration key): read-only, selected, with a copy button; `after` goes
// below it. Returns the panel and its field (to focus once the panel is on the page).
export function shownOnce({ id, title, label, value, warning, copyLabel, headingLevel = 'h2', after = null }) {
  const input = h('input', { id, type: 'text', readonly: true, value, class: 'mono', 'aria-describedby': `${id}-hint` });
  const copied = h('span', { class: 'hint', role: 'status' });
  const copy = button(copyLabel, async () => {
    try { await navigator.clipboard.writeText(value); copied.textContent = 'Copied.'; } catch {
      input.select(); copied.textContent = 'Select and copy it (Ctrl+C): the browser refused to copy.';
    }
  }, { class: 'primary' });
  const panel = h('section', { class: 'panel once', 'aria-labelledby': `${id}-title` },
    h(headingLevel, { id: `${id}-title` }, title), h('p', { id: `${id}-hint`, class: 'warning' }, warning),
    h('label', { for: id }, label), h('div', { class: 'inline' }, input, copy), copied, after);
  return { panel, input };
}
