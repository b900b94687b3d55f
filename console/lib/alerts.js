// New texts without a reload, on every page: a poll every few seconds for the open conversations active since
// the newest one seen (`inbox?view=open&active_since=…`: one Query per poll, empty when nothing happened; API
// Gateway REST has no push channel, and a poll with a cursor costs less than a WebSocket API beside it). It keeps
// the tab title's unread count, plays an optional sound, shows the browser's notifications for conversations the
// user owns or nobody owns yet (permission asked only when the user turns them on), and tells listening pages
// (the inbox redraws its list). A notification names the line only, unless the user chose to see the patient's
// number and text in it.

import { get, seg } from './api.js';

const POLL_MS = 4000;
const RECOUNT_EVERY = 15; // polls: the unread count is read afresh about once a minute (others read texts too)
const PREFERENCES = 'sb.alerts';

export function preferences() {
  try {
    return { sound: false, notify: false, details: false, ...JSON.parse(localStorage.getItem(PREFERENCES) || '{}') };
  } catch {
    return { sound: false, notify: false, details: false };
  }
}

export function setPreference(name, value) {
  localStorage.setItem(PREFERENCES, JSON.stringify({ ...preferences(), [name]: value }));
}

export const notificationsSupported = () => 'Notification' in window;

// Turn desktop notifications on: the browser asks for permission here, once, because the user asked for them.
export async function enableNotifications() {
  if (!notificationsSupported()) return 'unsupported';
  let permission = Notification.permission;
  if (permission === 'default') permission = await Notification.requestPermission();
  setPreference('notify', permission === 'granted');
  return permission;
}

const key = (c) => `${c.line_id}|${c.phone}`;
let following = null;

// Follow the chosen practice's open conversations (again when it changes; stopped with stop()).
export function follow(ctx, { onCount }) {
  const practiceId = ctx.me && ctx.practiceId;
  if (following && following.practiceId === practiceId) return;
  stop();
  if (!practiceId) { onCount(); return; }
  following = new Follower(ctx, practiceId, onCount);
  following.start();
}

export function stop() {
  if (following) following.stop();
  following = null;
}

export const unreadCount = () => (following ? following.unreadCount() : 0);
export function onChanges(listener) {
  if (!following) return () => {};
  const owner = following;
  owner.listeners.add(listener);
  return () => owner.listeners.delete(listener);
}
export function markedRead(conversation) { if (following) following.markedRead(conversation); }

class Follower {
  constructor(ctx, practiceId, onCount) {
    this.ctx = ctx;
    this.practiceId = practiceId;
    this.base = seg('practices', practiceId);
    this.onCount = onCount;
    this.known = new Map(); // conversation -> its last entry seen
    this.unread = new Map();
    this.listeners = new Set();
    this.since = null;
    this.polls = 0;
    this.lines = [];
  }

  start() {
    this.timer = setInterval(() => { this.poll().catch(() => {}); }, POLL_MS);
    this.recount().catch(() => {});
    get(`${this.base}/lines`).then((lines) => { this.lines = lines; }).catch(() => {});
  }

  stop() { clearInterval(this.timer); this.stopped = true; }

  unreadCount() { return [...this.unread.values()].filter((n) => n > 0).length; }

  markedRead(c) { this.unread.set(key(c), 0); this.onCount(); }

  async recount() {
    const page = await get(`${this.base}/inbox?view=open&unread=true&limit=100`);
    if (this.stopped) return;
    this.unread = new Map(page.conversations.map((c) => [key(c), c.unread]));
    if (this.since === null) {
      const newest = await get(`${this.base}/inbox?view=open&limit=25`);
      for (const c of newest.conversations) this.known.set(key(c), c);
      this.since = newest.conversations.reduce((at, c) => (c.last_activity_at > at ? c.last_activity_at : at), '') || '';
    }
    this.onCount();
  }

  async poll() {
    if (this.since === null || this.stopped) return;
    this.polls += 1;
    if (this.polls % RECOUNT_EVERY === 0) await this.recount();
    const q = new URLSearchParams({ view: 'open', limit: '100' });
    if (this.since) q.set('active_since', this.since);
    const page = await get(`${this.base}/inbox?${q}`);
    if (this.stopped) return;
    const changed = page.conversations.filter((c) => JSON.stringify(this.known.get(key(c))) !== JSON.stringify(c));
    for (const c of changed) {
      const before = this.known.get(key(c));
      this.known.set(key(c), c);
      this.unread.set(key(c), c.unread);
      if (c.last_activity_at > this.since) this.since = c.last_activity_at;
      const fresh = c.last_message && c.last_message.direction === 'inbound' && c.unread > ((before && before.unread) || 0);
      if (fresh && this.concernsMe(c)) this.alert(c);
    }
    if (!this.since && page.conversations.length === 0) this.since = '';
    if (changed.length) {
      this.onCount();
      for (const listener of this.listeners) listener(changed);
    }
  }

  concernsMe(c) {
    return !c.assignee || (this.ctx.me && c.assignee.user_id === this.ctx.me.user_id);
  }

  alert(c) {
    const prefs = preferences();
    if (prefs.sound) beep();
    if (!prefs.notify || !notificationsSupported() || Notification.permission !== 'granted') return;
    const line = this.lines.find((l) => l.line_id === c.line_id);
    const lineName = line ? line.display_name : 'one of your lines';
    const body = prefs.details
      ? `${c.patient_name || c.phone_display}: ${(c.last_message && c.last_message.body) || ''}`
      : `A patient texted ${lineName}. Open the inbox to read it.`;
    const shown = new Notification('New text', { body });
    shown.onclick = () => {
      window.focus();
      this.ctx.navigate(`inbox/${encodeURIComponent(c.line_id)}/${encodeURIComponent(c.phone)}`);
      shown.close();
    };
  }
}

let audio = null;
function beep() {
  try {
    audio = audio || new AudioContext();
    const tone = audio.createOscillator();
    const gain = audio.createGain();
    tone.frequency.value = 880;
    gain.gain.setValueAtTime(0.15, audio.currentTime);
    gain.gain.exponentialRampToValueAtTime(0.001, audio.currentTime + 0.3);
    tone.connect(gain).connect(audio.destination);
    tone.start();
    tone.stop(audio.currentTime + 0.3);
  } catch { /* no audio here: the title and notifications still tell */ }
}
