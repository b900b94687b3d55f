"""Storing verified patients and the enterprise settings; matching conversations to patients."""

from __future__ import annotations

from datetime import UTC, datetime

from pynamodb.exceptions import DoesNotExist, TransactWriteError
from pynamodb.expressions.update import Action

from switchboard.core.errors import Conflict, NotFound
from switchboard.rules.conversations import PatientMatch
from switchboard.rules.patients import EnterpriseSettings, NewPatient, Patient, matches_for

from . import audit
from .conversations import contact_key, conversation_key
from .keys import practice_key
from .models import ContactItem, ConversationItem, EnterpriseItem, PatientItem, PracticeItem
from .writes import transaction


def to_patient(item: PatientItem) -> Patient:
    return Patient(practice_id=item.practice_id, patient_id=item.patient_id, name=item.name, phone=item.phone)


def add_patient(practice_id: str, draft: NewPatient, *, actor: str) -> Patient:
    at = datetime.now(UTC)
    item = PatientItem(practice_key(practice_id), f"PATIENT#{draft.patient_id}", practice_id=practice_id,
                       patient_id=draft.patient_id, name=draft.name, phone=draft.phone,
                       gsi1pk=f"PHONE#{draft.phone}", gsi1sk=f"PATIENT#{practice_id}#{draft.patient_id}")
    contact = ContactItem(*contact_key(practice_id, draft.phone))
    try:
        with transaction() as writes:
            writes.check(PracticeItem, practice_key(practice_id), "PRACTICE", PracticeItem.pk.exists())
            writes.put(item, condition=PatientItem.pk.does_not_exist())
            writes.update(contact, [ContactItem.kind.set(ContactItem), ContactItem.practice_id.set(practice_id),
                                    ContactItem.phone.set(draft.phone), ContactItem.verified.set(True),
                                    ContactItem.created_at.set(ContactItem.created_at | at),
                                    ContactItem.updated_at.set(at), ContactItem.gsi1pk.set(f"PHONE#{draft.phone}"),
                                    ContactItem.gsi1sk.set(f"CONTACT#{practice_id}")])
            audit.record(writes, actor=actor, practice_id=practice_id, action="patient.create", entity="patient",
                         entity_id=draft.patient_id, before=None, after={"patient_id": draft.patient_id})
    except TransactWriteError as error:
        failed = writes.failed(error)
        if (practice_key(practice_id), "PRACTICE") in failed:
            raise NotFound("no such practice") from None
        if (item.pk, item.sk) in failed:
            raise Conflict("a patient with this id already exists", field="patient_id") from None
        raise
    return to_patient(item)


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
    own = [m for m in matches if m.practice_id == practice_id]
    actions: list[Action] = [ConversationItem.matches.set([m.model_dump() for m in matches]),
                             ConversationItem.verified.set(bool(own))]
    if len(matches) == 1:
        actions.append(ConversationItem.patient_id.set(matches[0].patient_id))
    return matches, actions


def match_conversation(practice_id: str, line_id: str, phone: str) -> list[PatientMatch]:
    """Record on the conversation which verified patients the phone may belong to (once per conversation)."""
    matches, actions = matching(practice_id, phone,
                                across_practices=enterprise_settings().cross_practice_matching)
    ConversationItem(*conversation_key(line_id, phone)).update(actions=actions)
    return matches
