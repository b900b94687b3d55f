"""The phone simulator: a patient's text or call to one of our numbers, as Twilio's signed webhook to its URL."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ElementTree

from local.carrier_sandbox import keywords, media, phones
from local.carrier_sandbox.calls import Calls
from local.carrier_sandbox.context import Context
from local.carrier_sandbox.http import API_VERSION, Reply, Request, Route, json_reply, route
from local.carrier_sandbox.messages import Messages
from local.carrier_sandbox.numbers import Numbers
from local.carrier_sandbox.state import new_sid

log = logging.getLogger("carrier_sandbox")


def _geography(prefix: str, number: str) -> dict[str, str]:
    city, state, postal_code = phones.place(number)
    country = "US" if number.startswith("+1") else ""
    return {
        f"{prefix}City": city,
        f"{prefix}State": state,
        f"{prefix}Zip": postal_code,
        f"{prefix}Country": country,
    }


class Simulator:
    def __init__(self, context: Context, messages: Messages, numbers: Numbers, calls: Calls) -> None:
        self.context = context
        self.messages = messages
        self.numbers = numbers
        self.calls = calls

    def routes(self) -> list[Route]:
        return [
            route("sandbox", "POST", r"/sandbox/inbound/sms", self.simulate_sms),
            route("sandbox", "POST", r"/sandbox/inbound/call", self.simulate_call),
        ]

    def simulate_sms(self, request: Request) -> Reply:
        """A patient's text (with `media`, an MMS) to one of our numbers: Twilio's signed webhook to its SmsUrl."""
        document = request.json()
        from_, to, body = str(document["from"]), str(document["to"]), str(document.get("body", ""))
        if "media_urls" in document:
            return json_reply({"error": "'media_urls' is no longer read: send 'media', [{content_type, data}]"}, 400)
        try:
            files = media.decode(document.get("media", []))
        except ValueError as error:
            return json_reply({"error": str(error)}, 400)
        number = self.numbers.find(to)
        if number is None or not number["sms_url"]:
            return json_reply({"error": "no incoming number with an SMS URL for that 'to'"}, 404)
        with self.context.store.change() as state:
            kind, reply, advanced = keywords.answer(state, number=to, patient=from_, body=body)
            message = self.messages.new_message(
                state, to=to, from_=from_, body=body, direction="inbound", status="received",
                prefix="MM" if files else "SM",
            )
            stored = self.messages.media.add(state, message, files)
            carrier_reply = self.messages.new_message(
                state, to=from_, from_=to, body=reply, direction="outbound-reply", status="queued"
            ) if reply else None
        if carrier_reply is not None:
            self.messages.schedule_delivery(carrier_reply["sid"], 0)
        sid = message["sid"]
        params = {
            "MessageSid": sid,
            "SmsSid": sid,
            "SmsMessageSid": sid,
            "AccountSid": self.context.account_sid,
            "From": from_,
            "To": to,
            "Body": body,
            "NumMedia": message["num_media"],
            "NumSegments": message["num_segments"],
            "SmsStatus": "received",
            "ApiVersion": API_VERSION,
            **_geography("From", from_),
            **_geography("To", to),
            **({"OptOutType": kind} if advanced and kind else {}),
        }
        for i, record in enumerate(stored):
            params[f"MediaUrl{i}"] = self.messages.media.url(record)
            params[f"MediaContentType{i}"] = record["content_type"]
        status, answer, problem = self.context.post_webhook(number["sms_url"], params, method=number["sms_method"])
        log.info("carrier sandbox delivered inbound %s from %s: %s", sid, phones.mask(from_), status)
        replies = self._reply_from_twiml(answer, to=from_, from_=to) if status and status < 300 else []
        return json_reply(
            {"status": status, "body": answer, "url": number["sms_url"], "message_sid": sid, "replies": replies,
             "carrier_reply": carrier_reply["sid"] if carrier_reply else None}
            | ({"error": problem} if problem else {}),
            200 if status is not None else 502,
        )

    def _reply_from_twiml(self, twiml: str, *, to: str, from_: str) -> list[str]:
        """Sends the `<Message>`s of a TwiML answer, as Twilio would; their sids."""
        try:
            root = ElementTree.fromstring(twiml)
        except ElementTree.ParseError:
            return []
        sent: list[str] = []
        for element in root.iter("Message"):
            body_element = element.find("Body")
            text = (body_element.text if body_element is not None else element.text) or ""
            with self.context.store.change() as state:
                if f"{from_}|{to}" in state["opt_outs"]:
                    continue
                message = self.messages.new_message(
                    state,
                    to=element.get("to") or to,
                    from_=element.get("from") or from_,
                    body=text.strip(),
                    direction="outbound-reply",
                    status="queued",
                    status_callback=element.get("action"),
                )
            sent.append(message["sid"])
            self.messages.schedule_delivery(message["sid"], 0)
        return sent

    def simulate_call(self, request: Request) -> Reply:
        """A call to one of our numbers: Twilio's signed voice webhook to its VoiceUrl."""
        document = request.json()
        from_, to = str(document["from"]), str(document["to"])
        number = self.numbers.find(to)
        if number is None or not number["voice_url"]:
            return json_reply({"error": "no incoming number with a voice URL for that 'to'"}, 404)
        call_sid = new_sid("CA")
        params = {
            "CallSid": call_sid,
            "AccountSid": self.context.account_sid,
            "From": from_,
            "To": to,
            "Caller": from_,
            "Called": to,
            "CallStatus": "ringing",
            "Direction": "inbound",
            "ApiVersion": API_VERSION,
            **_geography("From", from_),
            **_geography("To", to),
            **_geography("Caller", from_),
            **_geography("Called", to),
        }
        for key, name in (("forwarded_from", "ForwardedFrom"), ("caller_name", "CallerName")):
            if document.get(key):
                params[name] = str(document[key])
        status, answer, problem = self.calls.start(params, number["voice_url"], number["voice_method"])
        log.info("carrier sandbox delivered call %s from %s: %s", call_sid, phones.mask(from_), status)
        return json_reply(
            {"status": status, "body": answer, "url": number["voice_url"], "call_sid": call_sid}
            | ({"error": problem} if problem else {}),
            200 if status is not None else 502,
        )
