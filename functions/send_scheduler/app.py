"""Send scheduler: every minute, releases texts held back by quiet hours and runs campaigns at each line's rate."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.core.settings import store_settings
from switchboard.flows import campaigns, sends

_ = store_settings()


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    released = sends.release_due()
    ran = campaigns.run_campaigns()
    metrics.add_metric(name="ScheduledReleased", unit=MetricUnit.Count, value=released)
    metrics.add_metric(name="CampaignTextsQueued", unit=MetricUnit.Count, value=ran["queued"])
    logger.info("scheduled texts released and campaigns run", extra={"released": released, **ran})
    return {"released": released, "campaigns": ran}
