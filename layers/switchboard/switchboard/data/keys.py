"""Keys shared across the data modules, and the shape of every item's key (private to `switchboard.data`).

| item          | pk                  | sk              | gsi1 (pk / sk)                  |
|---------------|---------------------|-----------------|---------------------------------|
| practice      | PRACTICE#<id>       | PRACTICE        | PRACTICES / <name>#<id>         |
| line          | PRACTICE#<id>       | LINE#<id>       | LINES / <line id>               |
| number claim  | NUMBER#<e164>       | NUMBER          |                                 |
| resource      | PRACTICE#<id>       | RESOURCE#<id>   |                                 |
| membership    | USER#<sub>          | PRACTICE#<id>   | USERS#<practice id> / <email>   |
| user (legacy) | USER#<email>        | USER            | USERS#<practice id> / <email>   |
| audit entry   | AUDIT#<practice id> | <ulid>          |                                 |
| workflow      | PRACTICE#<id>       | WORKFLOW#<id>   |                                 |
| workflow count| PRACTICE#<id>       | COUNTS#<wf id>  |                                 |
| webhook token | TOKEN#<sha256>      | TOKEN           |                                 |
| contact       | PRACTICE#<id>       | CONTACT#<e164>  | PHONE#<e164> / <practice id>    |
| conversation  | LINE#<id>           | CONV#<e164>     | INBOX#<line id> / <activity>#<e164> |
|               |                     |                 | gsi2: INBOX#<practice id> / <activity>#<line id>#<e164> |
| inbound sid   | INBOUND#<SM…|RE…>   | INBOUND         | (TTL: carrier retries are minutes apart) |
| voicemail call| CALL#<CA…>          | VOICEMAIL       | (TTL: a day; the recording callback's line and caller) |
| quick response| PRACTICE#<id>       | QUICK#<id>      |                                 |
| message       | CONV#<line>#<e164>  | MSG#<ulid>      |                                 |
| carrier sid   | SID#<SM…>           | SID             |                                 |
| early status  | SID#<SM…>           | EARLY           | (TTL: a day; a callback before the sid was stored) |
| dedupe window | DEDUPE#<practice>#<e164> | DEDUPE     |                                 |
| patient       | PRACTICE#<id>       | PATIENT#<id>    | PHONE#<e164> / PATIENT#<practice>#<id> |
| enterprise    | ENTERPRISE          | SETTINGS        |                                 |
| api key       | PRACTICE#<id>       | APIKEY#<id>     |                                 |
| api key hash  | APIKEY#<sha256>     | APIKEY          |                                 |
| campaign      | PRACTICE#<id>       | CAMPAIGN#<id>   | (pending: CAMPAIGNS while running) |
| recipient     | CAMPAIGN#<id>       | R#<patient id>  |                                 |
| line rate     | LINE#<id>           | RATE            |                                 |
| send receipt  | RECEIPT#<practice>#<key> | RECEIPT    | (TTL: a week)                   |
| cursor        | RECONCILER          | CURSOR          | (where the reconciler stopped)  |
| search term   | FIND#<practice>#<digest> | <line>#<e164> | (from the stream: `functions/search_index`) |

A practice with a Messaging Service carries `pending_pk = MESSAGING_SERVICES` (its registration is polled),
a line waiting on a carrier order `pending_pk = LINE_ORDERS`, a message not yet final
`pending_pk = IN_FLIGHT`, a message waiting for its time `SCHEDULED`, a running campaign `CAMPAIGNS`
(sparse index `pending`).

A message stored to be sent or answered carries `handoff` (`outbound`: send it; `inbound`: answer it):
the table's stream hands it to its queue (`functions/handoff`), so its writer's one transaction is the
whole hand-off. A send receipt (`RECEIPT#<practice>#<idempotency key>` / `RECEIPT`) is written with the
text an idempotent API send stored, and answers that send's retries.
"""

from __future__ import annotations

from switchboard.rules.addresses import CountsOf, MessageRef


def practice_key(practice_id: str) -> str:
    return f"PRACTICE#{practice_id}"


def user_key(subject: str) -> str:
    return f"USER#{subject}"


def membership_key(subject: str, practice_id: str) -> tuple[str, str]:
    return user_key(subject), practice_key(practice_id)


def practice_users_key(practice_id: str) -> str:
    return f"USERS#{practice_id}"


def line_key(line_id: str) -> str:
    return f"LINE#{line_id}"


def dedupe_key(practice_id: str, phone: str) -> tuple[str, str]:
    return f"DEDUPE#{practice_id}#{phone}", "DEDUPE"


def contact_key(practice_id: str, phone: str) -> tuple[str, str]:
    return practice_key(practice_id), f"CONTACT#{phone}"


def conversation_key(line_id: str, phone: str) -> tuple[str, str]:
    return line_key(line_id), f"CONV#{phone}"


def message_key(ref: MessageRef) -> tuple[str, str]:
    return f"CONV#{ref.line_id}#{ref.phone}", f"MSG#{ref.message_id}"


def message_ref(pk: str, sk: str) -> MessageRef:
    """The address of the message stored under (pk, sk)."""
    _, line_id, phone = pk.split("#", 2)
    return MessageRef(line_id, phone, sk.removeprefix("MSG#"))


def workflow_counts_sk(workflow_id: str) -> str:
    return f"COUNTS#{workflow_id}"


def campaign_counts_sk(campaign_id: str) -> str:
    return f"COUNTS#CAMPAIGN#{campaign_id}"


def counts_key(of: CountsOf) -> tuple[str, str] | None:
    """Where an outcome is counted: its workflow's or its campaign's counters."""
    if of.workflow_id:
        return practice_key(of.practice_id), workflow_counts_sk(of.workflow_id)
    if of.campaign_id:
        return practice_key(of.practice_id), campaign_counts_sk(of.campaign_id)
    return None
