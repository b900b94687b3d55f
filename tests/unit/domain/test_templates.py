"""Templates take `{name}` placeholders and nothing else of Python's format language."""

import pytest

from switchboard.rules import templates


def test_placeholders_render_with_their_values_and_doubled_braces_are_literal():
    assert templates.render("Hi {first_name}, {{see you}} at {time}", {"first_name": "Ana", "time": "9"}) == (
        "Hi Ana, {see you} at 9")
    assert templates.placeholders("Hi {first_name} {first_name}") == {"first_name"}


@pytest.mark.parametrize(("template", "reason"), [
    ("Hi {first_name:d}", "no format options"),
    ("Hi {a:{b}}", "no format options"),
    ("Hi {a:>50000000}", "no format options"),
    ("Hi {x!r}", "no format options"),
    ("Hi {a.upper}", "is not a placeholder"),
    ("Hi {a[0]}", "is not a placeholder"),
    ("Hi {0}", "is not a placeholder"),
    ("Hi {}", "is not a placeholder"),
    ("Hi {First}", "is not a placeholder"),
    ("Hi {name", "unmatched"),
    ("Hi name}", "unmatched"),
])
def test_anything_but_a_plain_placeholder_is_refused_saying_why(template, reason):
    with pytest.raises(templates.TemplateError, match=reason):
        templates.parse(template)


def test_a_missing_value_names_its_placeholder():
    with pytest.raises(KeyError, match="first_name"):
        templates.render("Hi {first_name}", {})
