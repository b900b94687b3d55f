"""Verified patients (from the clinic's records) and matching a phone to them."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, StringConstraints

from switchboard.core.fields import DomainModel, UsPhoneNumber
from switchboard.rules.conversations import PatientMatch

PatientId = Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9._-]{1,64}$")]
PatientName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


class NewPatient(DomainModel):
    model_config = ConfigDict(extra="forbid")

    patient_id: PatientId
    name: PatientName
    phone: UsPhoneNumber


class PatientChanges(DomainModel):
    """A patient's new name or phone, from the clinic's records (their id never changes)."""

    model_config = ConfigDict(extra="forbid")

    name: PatientName | None = None
    phone: UsPhoneNumber | None = None


class Patient(DomainModel):
    practice_id: str
    patient_id: str
    name: str
    phone: str


class EnterpriseSettings(DomainModel):
    """One deployment's policy. Matching across practices is a compliance decision: off by default."""

    model_config = ConfigDict(extra="forbid")

    cross_practice_matching: bool = False


def matches_for(practice_id: str, patients: list[Patient], *, across_practices: bool) -> list[PatientMatch]:
    """The verified patients a caller may be: this practice's always, others' only where the enterprise allows."""
    return [
        PatientMatch(practice_id=p.practice_id, patient_id=p.patient_id, name=p.name)
        for p in sorted(patients, key=lambda p: (p.practice_id != practice_id, p.name))
        if p.practice_id == practice_id or across_practices
    ]
