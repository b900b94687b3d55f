"""Send scheduler: every minute, releases texts held back by quiet hours and runs campaigns at each line's rate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard import campaign_runner, sending
from switchboard.observability import MetricUnit, logger, metrics, tracer
from switchboard.settings import queue_settings, store_settings

_ = store_settings(), queue_settings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    released = sending.release_due()
    campaigns = campaign_runner.run_campaigns()
    metrics.add_metric(name="ScheduledReleased", unit=MetricUnit.Count, value=released)
    metrics.add_metric(name="CampaignTextsQueued", unit=MetricUnit.Count, value=campaigns["queued"])
    logger.info("scheduled texts released and campaigns run", extra={"released": released, **campaigns})
    return {"released": released, "campaigns": campaigns}
