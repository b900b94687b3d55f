"""Storing verified patients and the enterprise settings; matching conversations to patients."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from switchboard.core.errors import Conflict, NotFound
from switchboard.rules.conversations import PatientMatch
from switchboard.rules.patients import EnterpriseSettings, NewPatient, Patient, PatientChanges, matches_for

from . import audit
from .conversations import contact_key, conversation_key
from .keys import line_key, practice_key
from .models import ContactItem, ConversationItem, EnterpriseItem, LineItem, PatientItem, PracticeItem
from .writes import Writes, transaction


def to_patient(item: PatientItem) -> Patient:
    return Patient(practice_id=item.practice_id, patient_id=item.patient_id, name=item.name, phone=item.phone)


def _patient_item(practice_id: str, patient_id: str, name: str, phone: str) -> PatientItem:
    return PatientItem(practice_key(practice_id), f"PATIENT#{patient_id}", practice_id=practice_id,
                       patient_id=patient_id, name=name, phone=phone,
                       gsi1pk=f"PHONE#{phone}", gsi1sk=f"PATIENT#{practice_id}#{patient_id}")


def _mark_contact(writes: Writes, practice_id: str, phone: str, verified: bool, at: datetime) -> None:
    """The practice's contact for the phone, verified while one of its patients has that phone."""
    writes.update(ContactItem(*contact_key(practice_id, phone)), [
        ContactItem.kind.set(ContactItem), ContactItem.practice_id.set(practice_id), ContactItem.phone.set(phone),
        ContactItem.verified.set(verified), ContactItem.created_at.set(ContactItem.created_at | at),
        ContactItem.updated_at.set(at), ContactItem.gsi1pk.set(f"PHONE#{phone}"),
        ContactItem.gsi1sk.set(f"CONTACT#{practice_id}")])


def add_patient(practice_id: str, draft: NewPatient, *, actor: str) -> Patient:
    at = datetime.now(UTC)
    item = _patient_item(practice_id, draft.patient_id, draft.name, draft.phone)
    try:
        with transaction() as writes:
            writes.check(PracticeItem, practice_key(practice_id), "PRACTICE", PracticeItem.pk.exists())
            writes.put(item, condition=PatientItem.pk.does_not_exist())
            _mark_contact(writes, practice_id, draft.phone, True, at)
            audit.record(writes, actor=actor, practice_id=practice_id, action="patient.create", entity="patient",
                         entity_id=draft.patient_id, before=None, after={"patient_id": draft.patient_id})
    except TransactWriteError as error:
        failed = writes.failed(error)
        if (practice_key(practice_id), "PRACTICE") in failed:
            raise NotFound("no such practice") from None
        if (item.pk, item.sk) in failed:
            raise Conflict("a patient with this id already exists", field="patient_id") from None
        raise
    rematch(draft.phone)
    return to_patient(item)


def _load(practice_id: str, patient_id: str) -> PatientItem:
    try:
        return PatientItem.get(practice_key(practice_id), f"PATIENT#{patient_id}", consistent_read=True)
    except DoesNotExist:
        raise NotFound("no such patient", field="patient_id") from None


def _others_with(practice_id: str, phone: str, patient_id: str) -> bool:
    return any(p.practice_id == practice_id and p.patient_id != patient_id for p in patients_with_phone(phone))


def change_patient(practice_id: str, patient_id: str, changes: PatientChanges, *, actor: str) -> Patient:
    """A new name or phone; the conversations of a phone that gained or lost the patient are matched again."""
    at, item = datetime.now(UTC), _load(practice_id, patient_id)
    old_phone = item.phone
    changed = _patient_item(practice_id, patient_id, changes.name or item.name, changes.phone or item.phone)
    try:
        with transaction() as writes:
            writes.put(changed, condition=PatientItem.phone == old_phone)  # no change in between is undone
            if changed.phone != old_phone:
                _mark_contact(writes, practice_id, changed.phone, True, at)
                _mark_contact(writes, practice_id, old_phone, _others_with(practice_id, old_phone, patient_id), at)
            audit.record(writes, actor=actor, practice_id=practice_id, action="patient.update", entity="patient",
                         entity_id=patient_id, before={"name": item.name},  # the phone never goes on the trail
                         after={"name": changed.name, **({"phone": "changed"} if changed.phone != old_phone else {})})
    except TransactWriteError as error:
        if (changed.pk, changed.sk) in writes.failed(error):
            raise Conflict("the patient was changed meanwhile; read it again", field="patient_id") from None
        raise
    for phone in {old_phone, changed.phone}:
        rematch(phone)
    return to_patient(changed)


def remove_patient(practice_id: str, patient_id: str, *, actor: str) -> None:
    """No longer the practice's patient: their phone's conversations are matched again without them."""
    at, item = datetime.now(UTC), _load(practice_id, patient_id)
    try:
        with transaction() as writes:
            writes.delete(item, condition=PatientItem.phone == item.phone)
            _mark_contact(writes, practice_id, item.phone, _others_with(practice_id, item.phone, patient_id), at)
            audit.record(writes, actor=actor, practice_id=practice_id, action="patient.delete", entity="patient",
                         entity_id=patient_id, before={"patient_id": patient_id}, after=None)
    except TransactWriteError as error:
        if (item.pk, item.sk) in writes.failed(error):
            raise Conflict("the patient was changed meanwhile; read it again", field="patient_id") from None
        raise
    rematch(item.phone)


def rematch(phone: str) -> int:
    """Match again every conversation the phone has that was matched before, in every practice that knows it (a
    verified patient may show in other practices' conversations where the enterprise allows); how many."""
    across = enterprise_settings().cross_practice_matching
    patients = patients_with_phone(phone)
    contacts = ContactItem.gsi1.query(f"PHONE#{phone}", ContactItem.gsi1sk.startswith("CONTACT#"))
    done = 0
    for practice_id in sorted({c.practice_id for c in contacts if isinstance(c, ContactItem)}):
        lines = LineItem.query(practice_key(practice_id), LineItem.sk.startswith(line_key("")))
        keys = [conversation_key(line.line_id, phone) for line in lines if isinstance(line, LineItem)]
        matches = matches_for(practice_id, patients, across_practices=across)
        for conversation in ConversationItem.batch_get(keys) if keys else []:
            if not isinstance(conversation, ConversationItem) or conversation.matches is None:
                continue  # never matched: its first text matches it
            conversation.update(actions=_match_actions(practice_id, matches, conversation.patient_id))
            done += 1
    return done


def list_patients(practice_id: str) -> list[Patient]:
    query = PatientItem.query(practice_key(practice_id), PatientItem.sk.startswith("PATIENT#"))
    return [to_patient(item) for item in query]


def phones_of(practice_id: str, patient_ids: list[str]) -> dict[str, str]:
    """Each of these verified patients' phone, by patient id; ids that are not patients here are left out."""
    keys = [(practice_key(practice_id), f"PATIENT#{patient_id}") for patient_id in patient_ids]
    return {p.patient_id: p.phone for p in PatientItem.batch_get(keys) if isinstance(p, PatientItem)}


def patients_with_phone(phone: str) -> list[Patient]:
    query = PatientItem.gsi1.query(f"PHONE#{phone}", PatientItem.gsi1sk.startswith("PATIENT#"))
    return [to_patient(item) for item in query if isinstance(item, PatientItem)]


def enterprise_settings() -> EnterpriseSettings:
    try:
        item = EnterpriseItem.get("ENTERPRISE", "SETTINGS")
    except DoesNotExist:
        return EnterpriseSettings()
    return EnterpriseSettings(cross_practice_matching=bool(item.cross_practice_matching))


def change_enterprise_settings(settings: EnterpriseSettings, *, actor: str) -> EnterpriseSettings:
    try:
        item = EnterpriseItem.get("ENTERPRISE", "SETTINGS", consistent_read=True)
    except DoesNotExist:
        item = EnterpriseItem("ENTERPRISE", "SETTINGS")
    before = {"cross_practice_matching": bool(item.cross_practice_matching)}
    item.cross_practice_matching = settings.cross_practice_matching
    with transaction() as writes:
        writes.put(item)
        audit.record(writes, actor=actor, practice_id="ENTERPRISE", action="enterprise.update", entity="enterprise",
                     entity_id="SETTINGS", before=before, after=settings.model_dump())
    return settings


def matching(practice_id: str, phone: str, *, across_practices: bool) -> tuple[list[PatientMatch], list[Action]]:
    """Which verified patients the phone may belong to, and the conversation's actions that record it."""
    matches = matches_for(practice_id, patients_with_phone(phone), across_practices=across_practices)
    return matches, _match_actions(practice_id, matches)


def _match_actions(practice_id: str, matches: list[PatientMatch], picked: str | None = None) -> list[Action]:
    """The conversation's matches, whether one is the practice's own, and its patient when only one may be (or
    the one picked before, while still a match)."""
    own = [m for m in matches if m.practice_id == practice_id]
    actions: list[Action] = [ConversationItem.matches.set([m.model_dump() for m in matches]),
                             ConversationItem.verified.set(bool(own))]
    if len(matches) == 1:
        actions.append(ConversationItem.patient_id.set(matches[0].patient_id))
    elif picked is not None and picked not in {m.patient_id for m in matches}:
        actions.append(ConversationItem.patient_id.remove())
    return actions


def match_conversation(practice_id: str, line_id: str, phone: str) -> list[PatientMatch]:
    """Record on the conversation which verified patients the phone may belong to (once per conversation)."""
    matches, actions = matching(practice_id, phone,
                                across_practices=enterprise_settings().cross_practice_matching)
    ConversationItem(*conversation_key(line_id, phone)).update(actions=actions)
    return matches
