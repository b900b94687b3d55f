import pytest

from switchboard.core.phones import InvalidPhoneNumber, format_national, mask, parse_us_number


@pytest.mark.parametrize(
    "typed", ["4155552671", "(415) 555-2671", "415.555.2671", "+1 415 555 2671", "1-415-555-2671", "14155552671"]
)
def test_us_numbers_in_common_formats_become_e164(typed):
    assert parse_us_number(typed) == "+14155552671"


def test_canadian_numbers_are_accepted():
    assert parse_us_number("(416) 555-0123") == "+14165550123"


@pytest.mark.parametrize(
    "typed",
    [
        "415555267",
        "",
        "   ",
        "1-800-FLOWERS",
        "+44 20 7946 0958",
        "24155552671",
        "(555) 555-5555",
        "4155552671; DROP TABLE",
        "<script>",
        "9" * 40,
    ],
)
def test_anything_else_is_refused_without_echoing_the_input(typed):
    with pytest.raises(InvalidPhoneNumber) as refused:
        parse_us_number(typed, field="CALLER_ID_NUMBER")
    assert refused.value.field == "CALLER_ID_NUMBER"
    assert not typed.strip() or typed not in refused.value.message


def test_display_and_mask():
    assert format_national("+14155552671") == "(415) 555-2671"
    assert mask("+14155552671") == "+1415•••2671"
