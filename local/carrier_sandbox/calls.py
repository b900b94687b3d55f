"""Voice calls, followed the way Twilio runs them: the TwiML our webhook answers is read verb by verb, a <Dial> or
<Record> waits for the tests to say how it ended, and its action (and a recording's status callback) goes back to
our webhook signed like Twilio's, so a call's whole route can be walked and read back."""

from __future__ import annotations

import logging
import threading
import xml.etree.ElementTree as ElementTree
from typing import Any
from urllib.parse import urljoin

from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import API_VERSION, Reply, Request, Route, json_reply, route
from local.carrier_sandbox.state import new_sid, rfc2822

log = logging.getLogger("carrier_sandbox")

DIAL_STATUSES = ("completed", "answered", "busy", "no-answer", "failed", "canceled")
DEFAULT_DIAL_TIMEOUT = 30  # seconds, Twilio's default for <Dial timeout>
DEFAULT_MAX_LENGTH = 3600  # seconds, Twilio's default for <Record maxLength>
APPLICATION_ERROR = "We are sorry, an application error has occurred. Goodbye."


def _number(text: str | None, default: int) -> int:
    try:
        return int(str(text).strip())
    except ValueError:
        return default


def parse_twiml(twiml: str) -> list[dict[str, Any]] | None:
    """The verbs of a voice TwiML document in order (None when it is not TwiML), with the attributes Twilio reads."""
    try:
        root = ElementTree.fromstring(twiml)
    except ElementTree.ParseError:
        return None
    if root.tag != "Response":
        return None
    verbs: list[dict[str, Any]] = []
    for element in root:
        verb: dict[str, Any] = {"verb": element.tag}
        if element.tag == "Say":
            verb |= {"text": (element.text or "").strip(), "voice": element.get("voice"),
                     "language": element.get("language")}
        elif element.tag == "Dial":
            numbers = [(n.text or "").strip() for n in element.findall("Number")]
            if not numbers and (element.text or "").strip():
                numbers = [(element.text or "").strip()]  # <Dial>+1415…</Dial>, the short form
            verb |= {"numbers": numbers, "timeout": _number(element.get("timeout"), DEFAULT_DIAL_TIMEOUT),
                     "action": element.get("action"), "method": (element.get("method") or "POST").upper(),
                     "caller_id": element.get("callerId")}
        elif element.tag == "Record":
            verb |= {"action": element.get("action"), "method": (element.get("method") or "POST").upper(),
                     "max_length": _number(element.get("maxLength"), DEFAULT_MAX_LENGTH),
                     "play_beep": (element.get("playBeep") or "true").lower() != "false",
                     "recording_status_callback": element.get("recordingStatusCallback"),
                     "recording_status_callback_method":
                         (element.get("recordingStatusCallbackMethod") or "POST").upper()}
        verbs.append(verb)
    return verbs


def run_verbs(verbs: list[dict[str, Any]]) -> tuple[list[str], dict[str, Any] | None]:
    """(what the caller hears, the verb the call waits on): the document runs until a <Dial> or <Record>, a
    <Hangup>, or its end; verbs the sandbox does not play are skipped as if instant."""
    heard: list[str] = []
    for verb in verbs:
        if verb["verb"] == "Say":
            heard.append(verb["text"])
        elif verb["verb"] in ("Dial", "Record"):
            return heard, verb
        elif verb["verb"] in ("Hangup", "Reject"):
            return heard, None
    return heard, None


class Calls:
    """Every call the phone simulator made, with each TwiML step it took (`state["calls"]`, kept across restarts)."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self._busy: set[str] = set()  # calls with a webhook in flight: a second move would race the first
        self._busy_lock = threading.Lock()

    def routes(self) -> list[Route]:
        return [
            route("sandbox", "GET", r"/sandbox/calls", self.list_calls),
            route("sandbox", "GET", r"/sandbox/calls/(?P<sid>[^/]+)", self.get_call),
            route("sandbox", "POST", r"/sandbox/calls/(?P<sid>[^/]+)/dial", self.end_dial),
            route("sandbox", "POST", r"/sandbox/calls/(?P<sid>[^/]+)/record", self.end_record),
        ]

    # -- the call's life -----------------------------------------------------------------------

    def start(self, params: dict[str, str], url: str, method: str) -> tuple[int | None, str, str | None]:
        """Posts a new call's voice webhook and keeps the call at the TwiML it answered."""
        sid = params["CallSid"]
        with self.context.store.change() as state:
            state["calls"][sid] = {"sid": sid, "from": params["From"], "to": params["To"], "status": "ringing",
                                   "date_created": rfc2822(self.context.store.now()), "_params": params,
                                   "steps": []}
        status, body, problem = self.context.post_webhook(url, params, method=method)
        self._record_step(sid, "voice", url, method, status, body, problem)
        return status, body, problem

    def _record_step(self, sid: str, request: str, url: str, method: str, status: int | None, body: str,
                     problem: str | None, *, caller_gone: bool = False, **facts: Any) -> dict[str, Any]:
        verbs = parse_twiml(body) if status is not None and status < 300 else None
        if caller_gone:
            heard, waiting = [], None  # Twilio requests the action but plays nothing to a caller who hung up
        elif verbs is None:
            # Twilio plays its application-error message and hangs up when the webhook fails or answers no TwiML.
            heard, waiting = [APPLICATION_ERROR], None
        else:
            heard, waiting = run_verbs(verbs)
        step = {"request": request, "url": url, "method": method, "status": status, "twiml": body,
                "verbs": verbs or [], "heard": heard, "waiting": waiting, **facts,
                **({"error": problem} if problem else {})}
        return self._append_step(sid, step)

    def _append_step(self, sid: str, step: dict[str, Any]) -> dict[str, Any]:
        waiting = step["waiting"]
        with self.context.store.change() as state:
            call = state["calls"][sid]
            if waiting is not None and waiting["verb"] == "Dial":
                # Without a callerId Twilio shows the dialled numbers the caller's own number.
                step["rang"], step["caller_id"] = list(waiting["numbers"]), waiting["caller_id"] or call["from"]
            call["steps"].append(step)
            call["status"] = "in-progress" if waiting is not None else "completed"
        return step

    def _claim(self, sid: str, verb: str) -> tuple[dict[str, Any] | None, Reply | None]:
        """(the call, None) when the call waits on `verb`, else (None, a 404 or 409 saying why); the caller must
        `_release` a call it got."""
        with self._busy_lock:
            # Claimed before the state is read, so a second request sees the step the first one adds.
            if sid in self._busy:
                return None, json_reply({"error": "the call has a webhook in flight"}, 409)
            self._busy.add(sid)
        with self.context.store.read() as state:
            call = state["calls"].get(sid)
            waiting = call["steps"][-1]["waiting"] if call and call["steps"] else None
            snapshot = {**call, "_params": dict(call["_params"])} if call else None
        if snapshot is not None and waiting is not None and waiting["verb"] == verb:
            return snapshot, None
        self._release(sid)
        if snapshot is None:
            return None, json_reply({"error": "no such call"}, 404)
        now = f"waits on <{waiting['verb']}>" if waiting else f"is {snapshot['status']}"
        return None, json_reply({"error": f"the call's current TwiML has no <{verb}>: it {now}",
                                 "call": self._shown(snapshot)}, 409)

    def _release(self, sid: str) -> None:
        with self._busy_lock:
            self._busy.discard(sid)

    def _document_url(self, sid: str) -> str:
        """The URL of the TwiML the call is in: relative action URLs are resolved against it, as Twilio does."""
        with self.context.store.read() as state:
            return next(str(s["url"]) for s in reversed(state["calls"][sid]["steps"]) if s["url"])

    def _call_params(self, call: dict[str, Any], call_status: str) -> dict[str, str]:
        """The parameters Twilio sends on every request about a call, as it stands now."""
        return {**call["_params"], "CallStatus": call_status}

    # -- control endpoints ----------------------------------------------------------------------

    def every(self) -> list[dict[str, Any]]:
        with self.context.store.read() as state:
            return [self._shown(c) for c in state["calls"].values()]

    def list_calls(self, request: Request) -> Reply:
        return json_reply({"calls": self.every()})

    def get_call(self, request: Request) -> Reply:
        with self.context.store.read() as state:
            call = state["calls"].get(request.groups["sid"])
            return json_reply(self._shown(call)) if call else json_reply({"error": "no such call"}, 404)

    def end_dial(self, request: Request) -> Reply:
        """The current <Dial> ended with `status`: Twilio's request to its action, and the TwiML that follows."""
        document = request.json()
        dial_status = str(document.get("status") or "")
        if dial_status not in DIAL_STATUSES:
            return json_reply({"error": f"status must be one of {', '.join(DIAL_STATUSES)}"}, 400)
        sid = request.groups["sid"]
        call, refused = self._claim(sid, "Dial")
        if call is None:
            return refused or json_reply({"error": "no such call"}, 404)
        try:
            dial = call["steps"][-1]["waiting"]
            answered = dial_status in ("completed", "answered")
            duration = str(int(document.get("duration", 60 if answered else 0)))
            facts: dict[str, Any] = {"dial_status": dial_status, "dial_call_sid": new_sid("CA"),
                                     "dial_duration": duration}
            if not dial["action"]:
                # Without an action Twilio goes on with the verbs after the <Dial> in the same document.
                return self._continue_after(sid, call, dial, facts)
            url = urljoin(self._document_url(sid), dial["action"])
            params = self._call_params(call, "in-progress") | {
                "DialCallStatus": dial_status,
                "DialCallSid": facts["dial_call_sid"],
                "DialCallDuration": duration,
            }
            status, body, problem = self.context.post_webhook(url, params, method=dial["method"])
            log.info("carrier sandbox posted the dial action of %s (%s): %s", sid, dial_status, status)
            step = self._record_step(sid, "dial", url, dial["method"], status, body, problem, **facts)
            return self._answer(sid, status, body, url, step, problem)
        finally:
            self._release(sid)

    def end_record(self, request: Request) -> Reply:
        """The caller left a message of `duration` seconds and hung up: the <Record>'s action, then its recording
        status callback (twice with `replay`, as Twilio retries)."""
        document = request.json()
        seconds = int(document.get("duration", 10))
        if seconds < 0:
            return json_reply({"error": "duration must be 0 or more seconds"}, 400)
        sid = request.groups["sid"]
        call, refused = self._claim(sid, "Record")
        if call is None:
            return refused or json_reply({"error": "no such call"}, 404)
        try:
            record = call["steps"][-1]["waiting"]
            seconds = min(seconds, int(record["max_length"]))
            document_url = self._document_url(sid)
            recording_sid = new_sid("RE")
            account = self.context.account_sid
            recording_url = f"https://api.twilio.com/{API_VERSION}/Accounts/{account}/Recordings/{recording_sid}"
            started = rfc2822(self.context.store.now() - seconds)
            # Twilio ends <Record> first (the caller hung up: Digits=hangup) and posts the recording's status once
            # the file is ready, so the action comes before the callback.
            action_url = urljoin(document_url, record["action"] or document_url)
            action_params = self._call_params(call, "completed") | {
                "RecordingUrl": recording_url,
                "RecordingDuration": str(seconds),
                "Digits": "hangup",
            }
            status, body, problem = self.context.post_webhook(action_url, action_params, method=record["method"])
            facts = {"recording_sid": recording_sid, "recording_url": recording_url, "recording_duration": seconds}
            step = self._record_step(sid, "record", action_url, record["method"], status, body, problem,
                                     caller_gone=True, **facts)
            callbacks: list[dict[str, Any]] = []
            if record["recording_status_callback"]:
                callback_url = urljoin(document_url, record["recording_status_callback"])
                callback_params = {
                    "AccountSid": account,
                    "CallSid": sid,
                    "RecordingSid": recording_sid,
                    "RecordingUrl": recording_url,
                    "RecordingStatus": "completed",
                    "RecordingDuration": str(seconds),
                    "RecordingChannels": "1",
                    "RecordingStartTime": started,
                    "RecordingSource": "RecordVerb",
                }
                for _ in range(2 if document.get("replay") else 1):
                    sent, answer, failed = self.context.post_webhook(
                        callback_url, callback_params, method=record["recording_status_callback_method"])
                    callbacks.append({"url": callback_url, "status": sent, "body": answer}
                                     | ({"error": failed} if failed else {}))
                log.info("carrier sandbox posted the recording callback of %s: %s", sid,
                         [c["status"] for c in callbacks])
                with self.context.store.change() as state:
                    state["calls"][sid]["steps"][-1]["recording_callbacks"] = callbacks
                step = {**step, "recording_callbacks": callbacks}
            reply = self._answer(sid, status, body, action_url, step, problem)
            if any(c["status"] is None for c in callbacks):
                reply.status = 502
            return reply
        finally:
            self._release(sid)

    def _continue_after(self, sid: str, call: dict[str, Any], dial: dict[str, Any], facts: dict[str, Any]) -> Reply:
        """A <Dial> without an action: the rest of the document after it plays on (or the call ends)."""
        last = call["steps"][-1]
        verbs = last["verbs"]
        rest = verbs[verbs.index(dial) + 1:] if dial in verbs else []
        if facts["dial_status"] in ("completed", "answered"):
            rest = []  # the parties talked and hung up: nothing more plays
        heard, waiting = run_verbs(rest)
        step = {"request": "dial", "url": None, "method": None, "status": None, "twiml": last["twiml"],
                "verbs": rest, "heard": heard, "waiting": waiting, **facts}
        return self._answer(sid, None, "", None, self._append_step(sid, step), None, posted=False)

    def _answer(self, sid: str, status: int | None, body: str, url: str | None, step: dict[str, Any],
                problem: str | None, *, posted: bool = True) -> Reply:
        with self.context.store.read() as state:
            shown = self._shown(state["calls"][sid])
        return json_reply(
            {"status": status, "body": body, "url": url, "step": step, "call": shown}
            | ({"error": problem} if problem else {}),
            502 if posted and status is None else 200,
        )

    @staticmethod
    def _shown(call: dict[str, Any]) -> dict[str, Any]:
        """The call as the control API shows it: its state, the TwiML it waits on, and every step it took."""
        steps = call["steps"]
        return {
            "sid": call["sid"],
            "from": call["from"],
            "to": call["to"],
            "status": call["status"],
            "date_created": call["date_created"],
            "twiml": steps[-1]["twiml"] if steps else None,
            "waiting": steps[-1]["waiting"] if steps else None,
            "heard": [text for s in steps for text in s["heard"]],
            "rang": [{"numbers": s["rang"], "caller_id": s["caller_id"]} for s in steps if "rang" in s],
            "steps": steps,
        }
