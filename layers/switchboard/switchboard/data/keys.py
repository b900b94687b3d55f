"""Keys shared across the data modules (the item shapes are tabled in `models.py`)."""

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
