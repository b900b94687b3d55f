"""Status poller: on a schedule, settles carrier number orders, reads practices' A2P 10DLC registration and
settles messages stuck in flight."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.utilities.typing import LambdaContext

from switchboard.core.observability import MetricUnit, logger, metrics, tracer
from switchboard.flows import delivery, hosted_lines, registration


@logger.inject_lambda_context
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    orders = hosted_lines.poll_pending_orders()
    for name, count in orders.items():
        metrics.add_metric(name=f"LineOrders{name.title()}", unit=MetricUnit.Count, value=count)
    registrations = registration.poll_registrations()
    for name, count in registrations.items():
        metrics.add_metric(name=f"Registrations{name.title()}", unit=MetricUnit.Count, value=count)
    messages = delivery.reconcile_in_flight()
    for name, count in messages.items():
        metrics.add_metric(name=f"InFlight{name.title().replace('_', '')}", unit=MetricUnit.Count, value=count)
    logger.info("number orders, registrations and messages in flight polled",
                extra={"orders": orders, "registrations": registrations, "messages": messages})
    return {"line_orders": orders, "registrations": registrations, "messages_in_flight": messages}
