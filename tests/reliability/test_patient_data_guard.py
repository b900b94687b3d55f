"""The patient-data guard (tests/patient_data_guard.py) sees numbers in every writing, and nothing else."""

from __future__ import annotations

import json
import logging
import tempfile
from pathlib import Path

import pytest

from tests.patient_data_guard import Guard, Tap, phones_in

WRITINGS = ["+14155552671", "14155552671", "4155552671", "(415) 555-2671", "415.555.2671", "415-555-2671",
            "+1 415 555 2671", "+1 (415) 555-2671", "1-415-555-2671", "%2B14155552671", "+1-415-555-2671"]
NOT_NUMBERS = [
    "+1415•••2671",  # the product's mask
    "SM4ebf5691a29871bc1b116edaf5345567",  # carrier sids
    "01M854ABZFN2BF7M7QX3JTEKGE",  # ULIDs
    "8bacd01a-a376-4af4-900f-466994155526",  # UUIDs
    "2026-11-23 21:18:43,417+0000",  # timestamps
    "1767225600", "1767225600123",  # epoch seconds and milliseconds
    "took 0.4155552671 s",  # a decimal
    "127.0.0.1:41555",  # addresses
    "***2671",  # the gateway's masked path
]


@pytest.mark.parametrize("written", WRITINGS)
def test_every_common_writing_of_a_number_is_found(written):
    assert phones_in(f'{{"message": "sent to {written} ok"}}') == [written]
    assert phones_in(f"to={written}&x=1") == [written]


@pytest.mark.parametrize("text", NOT_NUMBERS)
def test_ids_times_and_masked_numbers_are_not_numbers(text):
    assert phones_in(text) == []


def test_a_leak_is_reported_masked_and_bodies_of_the_test_data_are_found():
    guard = Guard()
    guard.add_bodies(["Can I come at 3 tomorrow?", "Yes", None])
    found = guard.leaks("switchboard", "patient +14155552671 wrote: Can I come at 3 tomorrow? Yes")
    assert len(found) == 1
    assert "2671" in found[0] and "+14155552671" not in found[0] and "Can I come" not in found[0]
    assert guard.leaks("switchboard", "a reply of Yes is too short to tell apart") == []


def test_the_tap_reads_records_as_their_own_handler_writes_them():
    guard, logger = Guard(), logging.getLogger("guard-test")
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s [masked]"))
    logger.addHandler(handler)
    try:
        guard.tap_loggers()
        logger.warning("to %s", "+1415•••2671")
        assert guard.take_lines() == [("guard-test", "WARNING to +1415•••2671 [masked]")]
    finally:
        for tap in [h for h in logger.handlers if isinstance(h, Tap)] + [handler]:
            logger.removeHandler(tap)


def test_a_stacks_output_and_its_carriers_bodies_are_read():
    # outside pytest's temporary directory, which the guard of this very run reads
    with tempfile.TemporaryDirectory() as outside:
        check_stack_output(Path(outside))


def check_stack_output(tmp_path: Path) -> None:
    stack = tmp_path / "stack1"
    (stack / "carrier").mkdir(parents=True)
    (stack / "carrier" / "carrier.json").write_text(json.dumps(
        {"state": {"messages": {"SM1": {"body": "Your results are ready to pick up"}}}}))
    (stack / "stack.out").write_text("INFO fine\n")
    guard = Guard()
    assert guard.read_stack_outputs(tmp_path) == []
    with open(stack / "stack.out", "a") as out:
        out.write("INFO sent 'Your results are ready to pick up' to 415-555-2671\n")
    found = guard.read_stack_outputs(tmp_path)
    assert len(found) == 1 and "ready to pick up" not in found[0]
