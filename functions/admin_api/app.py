"""Admin API: the console's authenticated REST API under /api."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response, content_types
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from routes import (
    conversations,
    integrations,
    lines,
    patients,
    practices,
    quick_responses,
    replies,
    resources,
    users,
    workflows,
)
from switchboard.core.observability import logger, metrics, tracer
from switchboard.edge.http_errors import register_error_handlers

app = APIGatewayRestResolver(enable_validation=True)
app.include_router(practices.router)
app.include_router(lines.router)
app.include_router(resources.router)
app.include_router(users.router)
app.include_router(workflows.router)
app.include_router(conversations.router)
app.include_router(replies.router)
app.include_router(quick_responses.router)
app.include_router(patients.router)
app.include_router(integrations.router)
register_error_handlers(app)


@app.get("/api/openapi.json", include_in_schema=False)
def openapi_document() -> Response[str]:
    return Response(
        status_code=200,
        content_type=content_types.APPLICATION_JSON,
        body=app.get_openapi_json_schema(title="Switchboard admin API", version="1"),
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@tracer.capture_lambda_handler
@metrics.log_metrics(capture_cold_start_metric=True)
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
