"""Message templates: text with `{name}` placeholders, the one form every template (workflow, message,
campaign) takes. Nothing else of Python's format language is accepted, so a template can neither fail
when a text is sent nor grow past the length rule while it renders."""

from __future__ import annotations

import re
import string
from collections.abc import Mapping

NAME = re.compile(r"[a-z][a-z0-9_]{0,39}")


class TemplateError(ValueError):
    """What is wrong with a template, in words a clinic's admin can act on."""


def parse(template: str) -> list[tuple[str, str | None]]:
    """The template as (literal text, placeholder name or None) pieces; TemplateError if it is not one."""
    try:
        pieces = list(string.Formatter().parse(template))
    except ValueError:
        raise TemplateError("has an unmatched { or }; write {{ or }} for a literal brace") from None
    found: list[tuple[str, str | None]] = []
    for literal, name, spec, conversion in pieces:
        if name is None:
            found.append((literal, None))
            continue
        if spec or conversion:
            raise TemplateError(f"placeholders take no format options or conversions: write {{{name.split(':')[0]}}}"
                                if NAME.fullmatch(name) else "placeholders are written {name}")
        if not NAME.fullmatch(name):
            raise TemplateError(f"{{{name}}} is not a placeholder: write {{name}} with lowercase letters, digits "
                                "and _")
        found.append((literal, name))
    return found


def placeholders(template: str) -> set[str]:
    return {name for _, name in parse(template) if name is not None}


def render(template: str, values: Mapping[str, str]) -> str:
    """The text with each placeholder replaced by its value; KeyError names a placeholder without one."""
    return "".join(literal + (values[name] if name is not None else "") for literal, name in parse(template))
