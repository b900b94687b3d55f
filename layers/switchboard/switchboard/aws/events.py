"""Events for a clinic's other systems, on the deployment's EventBridge bus.

| detail-type            | detail                                                              |
|------------------------|---------------------------------------------------------------------|
| Line Status Changed    | practice_id, line_id, status (enabled/failed), reason, changed_at   |
| Message Received       | practice_id, line_id, message_id, patient_id, keyword, received_at  |
| Patient Opted Out      | practice_id, line_id, message_id, patient_id, at                    |
| Patient Opted In       | practice_id, line_id, message_id, patient_id, at                    |
| Message Failed         | practice_id, line_id, message_id, status, error_code, reason, at   |

Source is always `switchboard`; every message event carries an `event_id`, the same for the same news on
any retry, so a subscriber can drop a repeat. Phone numbers and message bodies are never put on the bus
(`patient_id` is the verified patient's id, when the conversation knows it). Publishing is a
notification: a failure to publish is logged and never undoes or blocks the change it reports.
"""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from switchboard.core.observability import logger
from switchboard.core.settings import service_settings, store_settings

SOURCE = "switchboard"


@cache
def _events() -> Any:
    import boto3

    return boto3.client("events", region_name=store_settings().region)


def publish(detail_type: str, detail: dict[str, Any]) -> None:
    bus = service_settings().event_bus_name
    if not bus:
        return
    try:
        answer = _events().put_events(Entries=[{"Source": SOURCE, "DetailType": detail_type, "EventBusName": bus,
                                                "Detail": json.dumps(detail, default=str)}])
        if answer.get("FailedEntryCount"):
            logger.warning("event not published", extra={"detail_type": detail_type})
    except Exception as error:  # a notification must never break the change it reports
        logger.warning("event not published", extra={"detail_type": detail_type, "error": type(error).__name__})
