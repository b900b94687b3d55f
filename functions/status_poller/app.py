"""Status poller: on a schedule, moves lines whose carrier orders ended to enabled or failed."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard import line_changes
from switchboard.observability import MetricUnit, logger, metrics, tracer


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders = line_changes.poll_pending_orders()
    for name, count in orders.items():
        metrics.add_metric(name=f"LineOrders{name.title()}", unit=MetricUnit.Count, value=count)
    logger.info("number orders polled", extra=orders)
    return {"line_orders": orders}
