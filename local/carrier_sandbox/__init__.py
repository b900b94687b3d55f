"""The carrier sandbox: a local, Twilio-compatible HTTP server the real `twilio` client talks to.

Start it with `python -m local.carrier_sandbox --data-dir .local/carrier --port 8765` (needs
`layers/switchboard` on PYTHONPATH for the signing code), or in-process:

    sandbox = CarrierSandbox(Path(".local/carrier"), port=0).start()
    ... sandbox.url, sandbox.account_sid, sandbox.auth_token ...
    sandbox.stop()

`api_base_url` is the address clients use when it is not `http://host:port` (`.url` returns it).
The same controls exist in Python for in-process tests: `messages(to=, from_=)`, `media(message_sid)`,
`incoming_numbers()`, `hosted_orders()`, `calls()`, `register_landline(*numbers)`, `add_faults(*faults)`,
`set_fault_rate(rate, seed=, **fault)`, `clear_faults()`, `advance_clock(seconds)`,
`complete_order(sid)`, `fail_order(sid, reason)`, `sign_loa(sid)`, `addresses()`, `reset()`.
`local.carrier_sandbox.recorder.WebhookRecorder` is a small HTTP server that records the webhooks it gets, for tests.

Point the stack at it with `CARRIER_API_URL=<sandbox.url>` and the secret
`{"account_sid": sandbox.account_sid, "auth_token": sandbox.auth_token}` (also served by
`GET /sandbox/account`). The account sid and auth token are made once and kept, with every number,
message, order, opt-out and landline, in `<data_dir>/carrier.json`, so a restart finds them again
(deliveries in flight resume).

URL scheme. `switchboard.carrier.SandboxHttpClient` rewrites `https://<host>.twilio.com/<path>` (and
`https://<x>.twiliocdn.com/<path>`) to `<sandbox url>/<host>/<path>`; the first path segment tells the APIs
apart:

    POST/GET  /api.twilio.com/2010-04-01/Accounts/{AC}/Messages.json          send / list (To, From,
                                                                              DateSent, DateSent<, DateSent>)
    GET       /api.twilio.com/2010-04-01/Accounts/{AC}/Messages/{SM}.json
    GET       …/Messages/{MM}/Media.json                                      its media (list key `media_list`)
    GET/DELETE  …/Messages/{MM}/Media/{ME}.json                                a Media resource / delete it (204)
    GET       …/Messages/{MM}/Media/{ME}                                      307, Location https://media.twiliocdn.com/
                                                                              {AC}/{token} (a stored, unguessable token)
    GET       /media.twiliocdn.com/{AC}/{token}                               the file's bytes with its Content-Type;
                                                                              no auth, as at Twilio's storage
    GET       /api.twilio.com/2010-04-01/Accounts/{AC}/AvailablePhoneNumbers/US/Local.json
                                                                              (AreaCode, Contains, SmsEnabled)
    POST/GET  /api.twilio.com/2010-04-01/Accounts/{AC}/IncomingPhoneNumbers.json   buy / list
    GET/POST/DELETE  …/IncomingPhoneNumbers/{PN}.json                          fetch / update / release
    POST/GET  /api.twilio.com/2010-04-01/Accounts/{AC}/Addresses.json          create / list
    GET/POST  …/Addresses/{AD}.json                                            fetch / update
    POST/GET  /numbers.twilio.com/v2/HostedNumber/Orders[/{HR}]               hosted SMS orders
    GET       /numbers.twilio.com/v2/HostedNumber/AuthorizationDocuments/{PX} an order's letter of authorization
    GET       /lookups.twilio.com/v2/PhoneNumbers/{E164}?Fields=line_type_intelligence
    POST/GET  /messaging.twilio.com/v1/Services[/{MG}]  (DELETE too)            Messaging Services
    POST/GET  /messaging.twilio.com/v1/Services/{MG}/PhoneNumbers              its sender pool (21710 already
                                                                              in it, 21712 in another service)
    GET       /messaging.twilio.com/v1/Services/{MG}/Compliance/Usa2p         its A2P 10DLC campaign
    GET       /messaging.twilio.com/v1/a2p/BrandRegistrations/{BN}            the campaign's brand

(Paths without the host segment are accepted too.) REST calls, the media URL without extension too (Twilio
enforces Basic auth on media URLs), need HTTP Basic auth with the account sid and auth token, else 401
`{"code": 20003, "message": "Authenticate", "more_info": …, "status": 401}`. Errors have Twilio's JSON shape and codes.

Behaviour, as Twilio's:
- A send is refused with HTTP 400: 21604/21603/21602 (To/From/Body missing), 21211 (To not valid
  E.164; +1 numbers must be well-formed NANP), 21606 (From is not an SMS number of the account;
  `strict_from=False` or `POST /sandbox/config {"strict_from": false}` turns this off; Twilio's
  test From +15005550006 always passes), 21614 (To is a landline), 21610 (the recipient texted a
  STOP word to that From), 21617 (body over 1600 characters). Twilio's magic test numbers as To:
  +15005550001 → 21211, …0002 → 21612, …0003 → 21408, …0004 → 21610, …0009 → 21614.
- MMS. A send may carry up to 10 `MediaUrl` (21623 past that, 21620 for one not http(s)), with or without a
  Body. On its way to delivery (before `sending`) the sandbox GETs each one (no proxy, 10 s timeout, redirects
  followed) as Twilio does: an error answer or no answer fails the message with 11200 (HTTP retrieval failure), a
  Content-Type Twilio does not send (other than image/*, audio/*, video/*, text/vcard, text/x-vcard, text/csv,
  text/calendar, text/plain, application/pdf, …) with 12300 (Invalid Content-Type); else the files become the
  message's Media resources (`num_media`). Messages with media are named MM…, as at Twilio. A deleted Media
  resource's bytes are dropped and every media route answers 404 for it. Logs name only a MediaUrl's host
  (presigned URLs carry credentials in their query).
- A2P 10DLC, as US carriers enforce it: a send from a local number of the account that is not in a
  Messaging Service whose campaign is VERIFIED on an APPROVED brand is accepted, then fails with 30034 (in
  its status callback). A new service starts with a VERIFIED campaign (`new_campaign_status`; null: none, as
  at Twilio); `POST /sandbox/services/{MG}/campaign` moves it. A send naming `MessagingServiceSid` starts
  `accepted`, and its From must be in that service's pool (else 21606).
- Landlines (21614 on send, `landline` in Lookup): numbers registered through the control API,
  the fixed range NPA-555-0190 … NPA-555-0199 in every area code (e.g. +14155550193), and
  +15005550009. Every other valid number is `mobile`.
- An accepted message (`queued`) moves to `sending`, `sent` and `delivered` after
  `message_delays` (default 50, 50, 100 ms), and each change POSTs a signed status callback to its
  StatusCallback: MessageSid, SmsSid, MessageStatus, SmsStatus, AccountSid, From, To, ApiVersion,
  ErrorCode (failed/undelivered), RawDlrDoneDate (delivered/undelivered). A callback URL that does
  not answer within 15 s (Twilio's wait; `callback_timeout`) is logged and dropped. `num_segments` is
  counted as GSM-7 (160/153) or UCS-2 (70/67).
- Available numbers are plausible NANP numbers in the area code, the same ones every time, never
  one the account owns; any valid number may be bought (PhoneNumber, or AreaCode for the first
  available), once.
- A hosted-number order moves `received` → `pending-verification` → `verified` → `pending-loa` →
  `carrier-processing` → `completed`, one step every `order_step_seconds` (default 60) of sandbox
  time; on completion its number becomes an incoming number of the account (origin `hosted`, SMS
  only) with the order's SmsUrl, and the order gets its `incoming_phone_number_sid`. No order status
  callbacks are sent (poll with fetch). Creating an order needs PhoneNumber, ContactPhoneNumber, Email and
  AddressSid (else 400 20001); an AddressSid the account does not have is 400 22109.
- The order's letter of authorization (its `signing_document_sid`, PX…) is `opened` until the order
  reaches `pending-loa`, `signing` there, and `signed` once the order moves past it or
  `POST /sandbox/orders/{HR}/sign-loa` signs it.
- An Address needs CustomerName, Street, City, Region, PostalCode and IsoCountry (else 400 20001);
  PostalCode 00000 is refused as Twilio refuses an address it cannot validate (400 21628).

Control API (JSON, no auth; local only):
    GET    /sandbox/health                        {"ok": true}
    GET    /sandbox/account                       {"account_sid", "auth_token", "url"}
    GET    /sandbox/messages?to=&from=&direction= {"messages": [...]} every message accepted or received,
                                                  oldest first, each with its "status_callback" and "media"
                                                  ([{"sid", "content_type", "size", "deleted"}])
    GET    /sandbox/messages/{MM}/media           {"media": [{"sid", "message_sid", "content_type", "size",
                                                  "deleted", "data" (base64, null once deleted), "date_created"}]}
                                                  (404 for an unknown message); `media(message_sid)` in Python
    GET    /sandbox/numbers | /sandbox/orders | /sandbox/opt-outs
    POST   /sandbox/reset                         forget messages (and media), numbers, orders, addresses, calls,
                                                  opt-outs, landlines, faults and the clock (the account stays)
    GET    /sandbox/landlines;  POST {"phone_number": ...} or {"phone_numbers": [...]};
    DELETE /sandbox/landlines/{E164}
    POST   /sandbox/faults                        a fault, or {"faults": [fault, ...]}: applied in order to
                                                  the next Messages.json creates; with "to": [E164, ...]
                                                  only creates to those numbers (faults and rate)
           {"rate": 0.1, "seed": 7, <fault>}      instead: that share of creates (while the queue is empty)
                                                  get <fault>, reproducibly for a seed; "rate": 0 stops it
    GET    /sandbox/faults {"faults", "rate", "to"};  DELETE /sandbox/faults (queue, rate and "to")
    POST   /sandbox/orders/{HR}/complete          the order completes now
    POST   /sandbox/orders/{HR}/fail              {"failure_reason": "...", "status": "failed"|"action-required"}
    POST   /sandbox/orders/{HR}/sign-loa          the order's letter of authorization is signed now
    GET    /sandbox/addresses                     {"addresses": [...]} every Address of the account
    GET    /sandbox/clock;  POST {"advance": seconds} or {"set": "2030-01-01T00:00:00Z"}
    GET    /sandbox/config;  POST {"message_delays": [..], "order_step_seconds": n, "strict_from": bool,
                                       "new_campaign_status": "VERIFIED"|"IN_PROGRESS"|…|null}
    GET    /sandbox/services                      every Messaging Service with its pool, campaign and brand
    POST   /sandbox/services/{MG}/campaign        {"campaign_status": "PENDING"|"IN_PROGRESS"|"VERIFIED"|"FAILED"|
                                                  "SUSPENDED"|null, "brand_status"?: "APPROVED"|…, "errors"?: [...]}
  Phone simulator:
    POST   /sandbox/inbound/sms   {"from", "to", "body", "media"?: [{"content_type", "data" (base64)}, … ≤ 10]}
           → a signed inbound-SMS webhook (every parameter Twilio sends) to the SmsUrl of incoming number "to";
           with media, an MM… message whose files are stored as its Media resources, and the webhook carries
           NumMedia, MediaUrl{i} (https://api.twilio.com/2010-04-01/Accounts/{AC}/Messages/{MM}/Media/{ME}) and
           MediaContentType{i}; more than 10 items, bad base64 or a missing content type is 400 {"error"}
           ("media_urls" is refused so). Answers {"status", "body"
           (our TwiML), "url", "message_sid", "replies": [sids of <Message>s in the TwiML, sent as
           Twilio would], "carrier_reply": sid of Twilio's own keyword answer or null}. A single STOP word
           (STOP STOPALL UNSUBSCRIBE END QUIT REVOKE OPTOUT CANCEL) blocks that pair for sends and is
           confirmed once, START/UNSTOP/YES unblocks a blocked pair and is confirmed, HELP/INFO is answered:
           with Twilio's default texts (keywords.py), sent to the patient as outbound-reply messages; the
           webhook is still delivered.
    POST   /sandbox/advanced-opt-out/{E164}  {"stop", "start", "help"}: Advanced Opt-Out on the Messaging
           Service of that number: keywords are answered with these texts and the webhook carries
           OptOutType (STOP / START / HELP); DELETE turns it off.
    POST   /sandbox/inbound/call  {"from", "to", "forwarded_from"?, "caller_name"?} → a signed voice webhook
           to the number's VoiceUrl; answers {"status", "body" (our TwiML), "url", "call_sid"}. The call is then
           followed as Twilio runs it: its TwiML plays up to a <Dial> or <Record> (which it waits on), a <Hangup>
           or its end; a webhook that fails or answers no TwiML gets Twilio's application-error message.
    GET    /sandbox/calls[/{CA}]                  every call (or one): {"sid", "from", "to", "status" (ringing |
                                                  in-progress | completed), "twiml" and "waiting" (the verb it waits
                                                  on), "heard" (every <Say>), "rang" ([{"numbers", "caller_id"}],
                                                  callerId defaulting to the caller), "steps" (each request: "url",
                                                  "status", "twiml", "verbs", "heard", "waiting", …)}
    POST   /sandbox/calls/{CA}/dial               {"status": "no-answer"|"busy"|"failed"|"canceled"|"completed"|
                                                  "answered", "duration"?}: the <Dial> it waits on ends so; posts its
                                                  action (relative to the TwiML's URL; without one the document goes
                                                  on) with the call's parameters, CallStatus in-progress,
                                                  DialCallStatus, DialCallSid, DialCallDuration, and plays the answer
    POST   /sandbox/calls/{CA}/record             {"duration": 42, "replay"?: true}: the caller leaves a message and
                                                  hangs up: posts the <Record>'s action (RecordingUrl,
                                                  RecordingDuration, Digits=hangup, CallStatus completed), then its
                                                  recordingStatusCallback (AccountSid, CallSid, RecordingSid RE…,
                                                  RecordingUrl https://api.twilio.com/2010-04-01/Accounts/{AC}/
                                                  Recordings/{RE}, RecordingStatus completed, RecordingDuration,
                                                  RecordingChannels 1, RecordingStartTime, RecordingSource
                                                  RecordVerb); "replay" posts the callback twice, as Twilio retries
           Both answer {"status", "body", "url" (of the action), "step", "call"}; 409 with "error" saying why when the
           call does not wait on that verb (or has a request in flight), 404 for an unknown call.
  A webhook URL that does not answer gives HTTP 502 with "status": null and "error".

A fault is an object with any of:
    "status": 500|503|429|…   answer that HTTP status with a Twilio error body (nothing stored)
    "code": 21211|20429|…     the Twilio error code to answer (status 400, or 429 for 20429)
    "delay": seconds          wait before handling the request
    "accept_then_fail": true  store and deliver the message, then answer "status" (default 500)
    "hang": seconds|true      store and deliver the message, then hold the answer that long (true: 30 s),
                              past the client's timeout
    "final_status": "undelivered"|"failed", "error_code": 30007   accept, then end that way
    "count": n                apply to the next n creates (default 1)

Webhooks are signed with the account's auth token exactly as Twilio signs them
(`switchboard.carrier.sign`, against the exact URL posted to). Phone numbers are masked in the
sandbox's log and bodies are never logged.
"""

from local.carrier_sandbox.server import CarrierSandbox

__all__ = ["CarrierSandbox"]
