"""Status poller: on a schedule, settles carrier number orders and messages stuck in flight."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.flows import delivery, line_changes


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders = line_changes.poll_pending_orders()
    for name, count in orders.items():
        metrics.add_metric(name=f"LineOrders{name.title()}", unit=MetricUnit.Count, value=count)
    messages = delivery.reconcile_in_flight()
    for name, count in messages.items():
        metrics.add_metric(name=f"InFlight{name.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
    logger.info("number orders and messages in flight polled", extra={"orders": orders, "messages": messages})
    return {"line_orders": orders, "messages_in_flight": messages}
