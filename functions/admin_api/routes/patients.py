"""Verified patients from the clinic's records, and the enterprise's matching policy."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from switchboard.data import patients as store
from switchboard.rules.access import require_admin, require_manager
from switchboard.rules.patients import EnterpriseSettings, NewPatient, Patient, PatientChanges

from .identity import current_caller

router = Router()
PracticeId = Annotated[str, Path(min_length=1, max_length=40)]
PatientId = Annotated[str, Path(min_length=1, max_length=64)]


@router.post(
    "/api/practices/<practice_id>/patients",
    summary="Add a verified patient (from the clinic's records)",
    responses={201: {"description": "Created"}},
)
def add_patient(practice_id: PracticeId, draft: Annotated[NewPatient, Body()]) -> tuple[Patient, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.add_patient(practice_id, draft, actor=caller.email), 201


@router.get("/api/practices/<practice_id>/patients", summary="A practice's verified patients")
def list_patients(practice_id: PracticeId) -> list[Patient]:
    require_manager(current_caller(router), practice_id)
    return store.list_patients(practice_id)


@router.patch("/api/practices/<practice_id>/patients/<patient_id>",
              summary="Change a patient's name or phone; the conversations of a phone that gained or lost them are "
                      "matched again")
def change_patient(practice_id: PracticeId, patient_id: PatientId,
                   changes: Annotated[PatientChanges, Body()]) -> Patient:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    return store.change_patient(practice_id, patient_id, changes, actor=caller.email)


@router.delete(
    "/api/practices/<practice_id>/patients/<patient_id>",
    summary="Remove a patient (no longer in the clinic's records); their phone's conversations are matched again",
    responses={204: {"description": "Removed"}},
)
def remove_patient(practice_id: PracticeId, patient_id: PatientId) -> tuple[None, int]:
    caller = current_caller(router)
    require_manager(caller, practice_id)
    store.remove_patient(practice_id, patient_id, actor=caller.email)
    return None, 204


@router.get("/api/enterprise", summary="The enterprise's settings")
def enterprise_settings() -> EnterpriseSettings:
    require_admin(current_caller(router))
    return store.enterprise_settings()


@router.put("/api/enterprise", summary="Change the enterprise's settings (admins only)")
def change_enterprise_settings(settings: Annotated[EnterpriseSettings, Body()]) -> EnterpriseSettings:
    caller = current_caller(router)
    require_admin(caller)
    return store.change_enterprise_settings(settings, actor=caller.email)
