// Formatting and counting that the console does in the browser (the API remains the authority).

export function digits(text) {
  return String(text || '').replace(/\D/g, '');
}

// The ten NANP digits of what a person typed, or null.
export function nanp(text) {
  const d = digits(text);
  if (d.length === 10) return d;
  if (d.length === 11 && d.startsWith('1')) return d.slice(1);
  return null;
}

export function toE164(text) {
  const ten = nanp(text);
  return ten ? `+1${ten}` : null;
}

export function formatPhone(e164) {
  const ten = nanp(e164);
  return ten ? `(${ten.slice(0, 3)}) ${ten.slice(3, 6)}-${ten.slice(6)}` : String(e164 || '');
}

export function sameNumber(a, b) {
  const x = nanp(a);
  return x !== null && x === nanp(b);
}

const dateTime = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeOnly = new Intl.DateTimeFormat(undefined, { timeStyle: 'short' });

export function when(iso) {
  if (!iso) return '';
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso);
  const today = new Date();
  return at.toDateString() === today.toDateString() ? timeOnly.format(at) : dateTime.format(at);
}

export function timeElement(iso, h) {
  return h('time', { datetime: iso, title: iso ? new Date(iso).toISOString() : '' }, when(iso));
}

// A moment on the wall clock of `timeZone` (e.g. the line's), as the card says "Closed until Mon, Dec 7, 9:00 AM".
export function inZone(iso, timeZone) {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return String(iso || '');
  try {
    return new Intl.DateTimeFormat(undefined, { weekday: 'short', month: 'short', day: 'numeric', hour: 'numeric',
      minute: '2-digit', timeZone, timeZoneName: 'short' }).format(at);
  } catch { return dateTime.format(at); }
}

function zoneOffsetMinutes(utcMillis, timeZone) {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric',
    month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
    .formatToParts(new Date(utcMillis)).map((p) => [p.type, p.value]));
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour),
    Number(parts.minute), Number(parts.second));
  return Math.round((wall - utcMillis) / 60000);
}

// A `datetime-local` value ("2026-12-07T09:00") read on the wall clock of `timeZone`, as an ISO time in UTC; the
// offset is looked up at the moment itself, so a time across a clock change gets the offset of its own side.
export function wallClockToIso(local, timeZone) {
  const match = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(String(local || ''));
  if (!match) return null;
  const [, y, mo, d, hh, mi] = match.map(Number);
  const asUtc = Date.UTC(y, mo - 1, d, hh, mi);
  let moment = asUtc - zoneOffsetMinutes(asUtc, timeZone) * 60000;
  moment = asUtc - zoneOffsetMinutes(moment, timeZone) * 60000;
  return new Date(moment).toISOString();
}

// The wall clock of `timeZone` at a moment, as a `datetime-local` value.
export function isoToWallClock(utcMillis, timeZone) {
  const shifted = new Date(utcMillis + zoneOffsetMinutes(utcMillis, timeZone) * 60000);
  return shifted.toISOString().slice(0, 16);
}

export function titleCase(text) {
  const s = String(text || '').replace(/_/g, ' ');
  return s.charAt(0).toUpperCase() + s.slice(1);
}

// SMS segments, the carrier's rules: GSM-7 (160 alone, 153 per part; extension characters take two) unless
// one character needs UCS-2 (70 alone, 67 per part, counted in UTF-16 units).
const GSM_BASIC = new Set(
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?'
  + '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà',
);
const GSM_EXTENSION = new Set('^{}\\[~]|€\f');

export function countSegments(text) {
  const chars = [...String(text || '')];
  const gsm = chars.every((c) => GSM_BASIC.has(c) || GSM_EXTENSION.has(c));
  const units = gsm
    ? chars.reduce((n, c) => n + (GSM_EXTENSION.has(c) ? 2 : 1), 0)
    : chars.reduce((n, c) => n + (c.codePointAt(0) > 0xffff ? 2 : 1), 0);
  const [single, part] = gsm ? [160, 153] : [70, 67];
  const segments = units === 0 ? 0 : units <= single ? 1 : Math.ceil(units / part);
  return { characters: chars.length, segments, encoding: gsm ? 'GSM-7' : 'UCS-2', units };
}

export function segmentSummary(text) {
  const c = countSegments(text);
  const sms = c.segments === 1 ? '1 SMS' : `${c.segments} SMS`;
  return `${c.characters} characters · ${sms} (${c.encoding === 'GSM-7' ? 'GSM-7' : 'Unicode, UCS-2'})`;
}

export const WEEKDAYS = [
  ['mon', 'Monday'], ['tue', 'Tuesday'], ['wed', 'Wednesday'], ['thu', 'Thursday'],
  ['fri', 'Friday'], ['sat', 'Saturday'], ['sun', 'Sunday'],
];

export function timezones() {
  let all = [];
  try { all = Intl.supportedValuesOf('timeZone'); } catch { all = []; }
  const first = ['America/New_York', 'America/Chicago', 'America/Denver', 'America/Phoenix', 'America/Los_Angeles',
    'America/Anchorage', 'Pacific/Honolulu', 'America/Toronto', 'America/Vancouver', 'America/Halifax',
    'America/Winnipeg', 'America/Edmonton', 'America/Regina', 'America/St_Johns', 'America/Puerto_Rico'];
  return [...first, ...all.filter((z) => !first.includes(z))];
}
