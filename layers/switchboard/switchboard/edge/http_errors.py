"""Domain and validation errors mapped to HTTP, once, for every API function.

Bodies look like `{"message": "...", "errors": [{"field": "number", "reason": "..."}]}`; they
never echo the input, which may be a patient's number or message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from switchboard.core import errors
from switchboard.core.observability import logger

if TYPE_CHECKING:
    from aws_lambda_powertools.event_handler import ApiGatewayResolver, Response

STATUS: dict[type[errors.DomainError], int] = {
    errors.InvalidInput: 422,
    errors.NotFound: 404,
    errors.Conflict: 409,
    errors.RuleRefused: 409,
    errors.Unauthenticated: 401,
    errors.Forbidden: 403,
    errors.Unavailable: 503,
    errors.TooLarge: 413,
    errors.UnsupportedMediaType: 415,
}


def error_response(status: int, message: str, problems: list[dict[str, str]] | None = None) -> Response[Any]:
    # The resolver (~40 ms of imports) is only loaded by the API functions; webhooks use status_for alone.
    from aws_lambda_powertools.event_handler import Response, content_types

    body: dict[str, Any] = {"message": message}
    if problems:
        body["errors"] = problems
    return Response(status_code=status, content_type=content_types.APPLICATION_JSON, body=body)


def status_for(error: errors.DomainError, *, webhook: bool = False) -> int:
    """Webhook callers (phone systems, the carrier) get a plain 400 for bad input; the console gets 422."""
    if webhook and isinstance(error, errors.InvalidInput):
        return 400
    return next((code for kind, code in STATUS.items() if isinstance(error, kind)), 409)


def error_body(error: errors.DomainError) -> dict[str, Any]:
    body: dict[str, Any] = {"message": error.message}
    if error.field:
        body["errors"] = [{"field": error.field, "reason": error.message}]
    return body


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _reason(error: dict[str, Any]) -> str:
    if error.get("type") == "missing":
        return "is required"
    if error.get("type") == "extra_forbidden":
        return "is not a known field"
    return str(error.get("msg", "is not valid")).removeprefix("Value error, ")


def register_error_handlers(app: ApiGatewayResolver) -> None:
    from aws_lambda_powertools.event_handler import Response, content_types
    from aws_lambda_powertools.event_handler.exceptions import ServiceError
    from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

    @app.exception_handler(RequestValidationError)
    def _invalid_request(error: RequestValidationError) -> Response[Any]:
        problems = list(error.errors())
        if any(p.get("type") == "json_invalid" for p in problems):
            malformed = [{"field": "body", "reason": "malformed JSON"}]
            return error_response(400, "the request body is not valid JSON", malformed)
        fields = [{"field": _field_name(p.get("loc", ())), "reason": _reason(p)} for p in problems]
        summary = "; ".join(f"{f['field']} {f['reason']}" for f in fields)
        return error_response(422, f"invalid request: {summary}", fields)

    @app.exception_handler(errors.DomainError)
    def _refused(error: errors.DomainError) -> Response[Any]:
        return Response(status_code=status_for(error), content_type=content_types.APPLICATION_JSON,
                        body=error_body(error))

    @app.exception_handler(ServiceError)
    def _routing(error: ServiceError) -> Response[Any]:
        # The resolver's own answers (no route matches the path: 404), not crashes.
        return error_response(error.status_code, str(error.msg) if isinstance(error.msg, str) else "not found")

    @app.exception_handler(UnicodeDecodeError)
    def _not_utf8(error: UnicodeDecodeError) -> Response[Any]:
        return error_response(400, "the request body is not valid UTF-8", [{"field": "body", "reason": "not UTF-8"}])

    @app.exception_handler(Exception)
    def _unexpected(error: Exception) -> Response[Any]:
        logger.error("unhandled error", exc_info=error)
        return error_response(500, "internal error; it has been logged")
