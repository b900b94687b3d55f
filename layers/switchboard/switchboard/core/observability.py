"""The one place that sets up logging, tracing and metrics, with patient data kept out of all three.

Every handler decorates in the same order:

    @logger.inject_lambda_context
    @tracer.capture_lambda_handler
    @metrics.log_metrics(capture_cold_start_metric=True)
"""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cached_property
from typing import Any, TypeVar

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from switchboard.core.phones import mask
from switchboard.core.settings import service_settings

# Any way a NANP number may be written: +14155552671, (415) 555-2671, 415.555.2671, 1 415 555 2671.
_PHONE = re.compile(r"(?<![\w+])\+?(?:1[\s.-]?)?\(?\d{3}\)?[\s.-]?\d{3}[\s.-]?\d{4}(?!\w)")
_DIGITS = re.compile(r"\D")
_SECRET_KEYS = frozenset({"body", "message_body", "text", "draft", "template_preview", "authorization"})
REDACTED = "[redacted]"


def mask_phones(text: str) -> str:
    """Replace every phone number in free text with its masked form."""
    return _PHONE.sub(lambda m: mask("+1" + _DIGITS.sub("", m.group())[-10:]), text)


def scrub(value: Any) -> Any:
    """A copy of a log record with message bodies removed and phone numbers masked, at any depth."""
    if isinstance(value, str):
        return mask_phones(value)
    if isinstance(value, dict):
        return {k: REDACTED if str(k).lower() in _SECRET_KEYS else scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [scrub(v) for v in value]
    return value


class PatientDataFormatter(LambdaPowertoolsFormatter):
    """Powertools' JSON formatter, scrubbing each record just before it is written."""

    def serialize(self, log: Any) -> str:
        return super().serialize(scrub(log))


Handler = TypeVar("Handler", bound=Callable[..., Any])


class Tracing:
    """Powertools Tracer, built only where tracing is on.

    The X-Ray SDK builds its own AWS client when imported (~150 ms of cold start), so the
    webhook-facing functions turn it off (`POWERTOOLS_TRACE_DISABLED`) and rely on Lambda's own
    active tracing for their segments.
    """

    @property
    def enabled(self) -> bool:
        return service_settings().tracing

    @cached_property
    def _tracer(self) -> Any:
        from aws_lambda_powertools import Tracer

        return Tracer()

    def capture_lambda_handler(self, handler: Handler) -> Handler:
        if not self.enabled:
            return handler
        wrapped: Handler = self._tracer.capture_lambda_handler(handler)
        return wrapped

    def capture_method(self, method: Handler) -> Handler:
        if not self.enabled:
            return method
        wrapped: Handler = self._tracer.capture_method(method)
        return wrapped


logger = Logger(logger_formatter=PatientDataFormatter())
tracer = Tracing()
metrics = Metrics()

__all__ = ["MetricUnit", "logger", "mask_phones", "metrics", "scrub", "tracer"]
