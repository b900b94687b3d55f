import json
import logging

from switchboard.core.observability import PatientDataFormatter, mask_phones, scrub


def test_every_way_of_writing_a_number_is_masked():
    text = "from +14155552671, (415) 555-2671, 415.555.2671, 1 415 555 2671 and 4155552671"
    masked = mask_phones(text)
    assert "555" not in masked.replace("+1415•••2671", "")
    assert masked.count("+1415•••2671") == 5


def test_ids_and_timestamps_are_left_alone():
    text = "line 01JD8ZK4Q2ABCDEF1234567890 at 2026-11-23T20:14:32.123Z"
    assert mask_phones(text) == text


def test_bodies_are_redacted_at_any_depth():
    record = {"event": {"Body": "my test results?", "nested": [{"body": "x", "To": "+14155552671"}]}}
    cleaned = scrub(record)
    assert cleaned["event"]["Body"] == "[redacted]"
    assert cleaned["event"]["nested"][0] == {"body": "[redacted]", "To": "+1415•••2671"}


def test_formatter_writes_no_patient_data():
    formatter = PatientDataFormatter()
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "texting +14155552671", None, None)
    record.body = "call me back"
    written = formatter.format(record)
    assert "4155552671" not in written and "call me back" not in written
    assert json.loads(written)["message"] == "texting +1415•••2671"
