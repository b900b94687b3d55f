"""Properties of the rules that take outside input: numbers, keywords, templates and opening hours.

Short runs in `make test`; `make soak` runs each property with many more examples.
"""

from __future__ import annotations

import re
import string
from datetime import UTC, date, datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

import phonenumbers
import pytest
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from switchboard.core.phones import InvalidPhoneNumber, parse_us_number
from switchboard.rules.hours import WEEKDAYS, Closure, Span, WeeklyHours
from switchboard.rules.keywords import (
    ALWAYS_OPT_OUT_WORDS,
    HELP_WORDS,
    OPT_IN_WORDS,
    OPT_OUT_WORDS,
    TEXT_WORDS,
    Keyword,
    keyword_in,
    sounds_like_opt_out,
)
from switchboard.rules.opening import OpeningHours, closure_bounds
from switchboard.rules.workflows import MAX_TEXT_LENGTH, check_template, render_template

SHORT = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SOAK = settings(max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
E164 = re.compile(r"^\+1[2-9]\d{2}[2-9]\d{6}$")


def both(*strategies, examples=()):
    """A property as a fast test and as a `soak` test with many more examples: `short, soak = both(...)(prop)`."""

    def build(prop, chosen):
        test = given(*strategies)(prop)
        for case in examples:
            test = example(*case)(test)
        return chosen(test)

    def make(prop):
        return build(prop, SHORT), pytest.mark.soak(build(prop, SOAK))

    return make


# --- phone numbers -----------------------------------------------------------------------------------------

nanp = st.tuples(st.integers(200, 999), st.integers(200, 999), st.integers(0, 9999))


def written(area: int, exchange: int, line: int) -> list[str]:
    a, e, n = f"{area:03d}", f"{exchange:03d}", f"{line:04d}"
    return [f"+1{a}{e}{n}", f"1{a}{e}{n}", f"{a}{e}{n}", f"({a}) {e}-{n}", f"{a}.{e}.{n}", f"{a}-{e}-{n}",
            f"+1 {a} {e} {n}", f"1 ({a}) {e}-{n}", f"  {a} {e} {n}  ", f"+1 ({a}) {e}.{n}"]


def is_real(area: int, exchange: int, line: int) -> bool:
    number = phonenumbers.parse(f"+1{area:03d}{exchange:03d}{line:04d}")
    return phonenumbers.is_valid_number(number) and phonenumbers.region_code_for_number(number) in ("US", "CA")


def _every_common_way_of_writing_a_number_gives_one_e164_or_one_refusal(parts):
    outcomes = set()
    for text in written(*parts):
        try:
            outcomes.add(parse_us_number(text))
        except InvalidPhoneNumber as refusal:
            assert refusal.field == "number"
            outcomes.add("refused")
    assert len(outcomes) == 1, outcomes
    (outcome,) = outcomes
    if is_real(*parts):
        assert outcome == f"+1{parts[0]:03d}{parts[1]:03d}{parts[2]:04d}"
    else:
        assert outcome == "refused"


def _any_text_is_an_e164_number_or_a_refusal_that_never_quotes_it(text):
    try:
        e164 = parse_us_number(text, field="CALLER_ID_NUMBER")
    except InvalidPhoneNumber as refusal:
        assert refusal.field == "CALLER_ID_NUMBER"
        stripped = text.strip()
        assert len(stripped) < 4 or stripped not in refusal.message
        return
    assert E164.match(e164), e164
    assert parse_us_number(e164) == e164  # idempotent


test_number_formats, test_number_formats_soak = both(nanp, examples=[((415, 555, 2671),), ((212, 555, 1234),)])(
    _every_common_way_of_writing_a_number_gives_one_e164_or_one_refusal)
ARABIC_INDIC_DIGITS = "\u0664\u0661\u0665\u0665\u0665\u0665\u0662\u0666\u0667\u0661"
test_number_any_text, test_number_any_text_soak = both(
    st.one_of(st.text(max_size=40), st.text(alphabet="0123456789+().- \t", max_size=40)),
    examples=[("4155552671' OR '1'='1",), ("+44 20 7946 0958",), ("1-800-FLOWERS",), (ARABIC_INDIC_DIGITS,)],
)(_any_text_is_an_e164_number_or_a_refusal_that_never_quotes_it)


# --- keywords ----------------------------------------------------------------------------------------------

KEYWORDS = {**{w: Keyword.OPT_OUT for w in OPT_OUT_WORDS}, **{w: Keyword.OPT_IN for w in OPT_IN_WORDS},
            **{w: Keyword.HELP for w in HELP_WORDS}}


def any_case(word: str) -> st.SearchStrategy[str]:
    return st.lists(st.booleans(), min_size=len(word), max_size=len(word)).map(
        lambda upper: "".join(c.upper() if u else c.lower() for c, u in zip(word, upper, strict=True)))


keyword_word = st.sampled_from(sorted(KEYWORDS)).flatmap(lambda w: st.tuples(st.just(w), any_case(w)))
space = st.text(alphabet=" \t\n\r", max_size=3)
trailing = st.text(alphabet=" .!?,;:\n", max_size=4)


def _a_keyword_alone_in_any_case_with_spaces_and_trailing_punctuation_is_recognised(word, before, after):
    canonical, typed = word
    assert keyword_in(before + typed + after) is KEYWORDS[canonical]
    assert not sounds_like_opt_out(before + typed + after)


def _a_keyword_inside_a_longer_message_is_not_a_keyword(word, other, glue):
    # Only the words that mean "no more texts" on their own flag beside an unrelated word: CANCEL, END and QUIT
    # are as often about an appointment ("cancel please" answers a reminder) and flag only with texts as object.
    canonical, typed = word
    assume(other.upper() not in TEXT_WORDS | {"BY", "IN", "OVER"})
    for message in (f"{typed}{glue}{other}", f"{other}{glue}{typed}"):
        assert keyword_in(message) is None
        words = {canonical} | set(re.findall(r"[A-Za-z0-9]+", other.upper()))
        assert sounds_like_opt_out(message) == bool(words & ALWAYS_OPT_OUT_WORDS)


def _any_message_is_at_most_one_of_keyword_or_likely_opt_out(body):
    found = keyword_in(body)
    assert found is None or isinstance(found, Keyword)
    assert not (found is not None and sounds_like_opt_out(body))
    if found is not None:
        assert re.sub(r"[\s.!?,;:]+$", "", (body or "").strip()).strip().upper() in KEYWORDS


test_keyword_alone, test_keyword_alone_soak = both(keyword_word, space, trailing)(
    _a_keyword_alone_in_any_case_with_spaces_and_trailing_punctuation_is_recognised)
test_keyword_inside, test_keyword_inside_soak = both(
    keyword_word, st.text(alphabet=string.ascii_letters + string.digits, min_size=1, max_size=10),
    st.sampled_from([" ", " please ", ", "]),
)(_a_keyword_inside_a_longer_message_is_not_a_keyword)
test_keyword_any_text, test_keyword_any_text_soak = both(st.one_of(st.none(), st.text(max_size=200)))(
    _any_message_is_at_most_one_of_keyword_or_likely_opt_out)


# --- message templates -------------------------------------------------------------------------------------

literal = st.text(alphabet=st.characters(blacklist_categories=["Cs"], blacklist_characters="{}"), max_size=60)
piece = st.one_of(
    literal,
    st.sampled_from(["{practice_name}", "{line_number}", "{{", "}}", "{", "}", "{0}", "{}", "{practice_name!r}",
                     "{line_number:>300}", "{practice_name.__class__}", "{line_number[0]}", "{patient}",
                     "https://clinic.example/book?x={{1}}"]),
)
template = st.lists(piece, max_size=8).map("".join)
practice_name = st.text(alphabet=st.characters(blacklist_categories=["Cs"]), min_size=1, max_size=120)
line_display = nanp.filter(lambda p: is_real(*p)).map(
    lambda p: phonenumbers.format_number(phonenumbers.parse(f"+1{p[0]}{p[1]}{p[2]:04d}"),
                                         phonenumbers.PhoneNumberFormat.NATIONAL))


def _a_template_accepted_at_save_renders_within_255_for_every_practice_and_line(text, name, number):
    try:
        check_template(text)
    except ValueError as refusal:
        assert str(refusal)
        return
    rendered = render_template(text, practice_name=name, line_number=number)
    assert len(rendered) <= MAX_TEXT_LENGTH


test_templates, test_templates_soak = both(
    template, practice_name, line_display,
    examples=[("{practice_name}" * 2, "W" * 120, "(999) 999-9999"), ("{line_number:>300}", "x", "(415) 555-2671")],
)(_a_template_accepted_at_save_renders_within_255_for_every_practice_and_line)


# --- opening hours -----------------------------------------------------------------------------------------

ZONES = ["America/Chicago", "America/New_York", "America/Denver", "America/Phoenix", "America/Los_Angeles",
         "America/St_Johns", "Pacific/Honolulu", "Europe/London", "Australia/Lord_Howe", "America/Havana"]
GRID = [f"{h:02d}:{m:02d}" for h in range(24) for m in (0, 15, 30, 45)] + ["24:00"]


@cache
def transitions(zone_name: str) -> tuple[datetime, ...]:
    """The UTC instants, in 2026 and 2027, when the zone's offset changes (DST starts or ends)."""
    zone, found = ZoneInfo(zone_name), []
    moment = datetime(2026, 1, 1, tzinfo=UTC)
    previous = moment.astimezone(zone).utcoffset()
    while moment < datetime(2028, 1, 1, tzinfo=UTC):
        moment += timedelta(hours=1)
        offset = moment.astimezone(zone).utcoffset()
        if offset != previous:
            found.append(moment)
            previous = offset
    return tuple(found)


@st.composite
def day_spans(draw):
    points = sorted(draw(st.sets(st.sampled_from(GRID[:-1]), max_size=6)))
    spans = [Span(opens=a, closes=b) for a, b in zip(points[::2], points[1::2], strict=False)]
    if draw(st.booleans()) and points and len(points) % 2:
        spans.append(Span(opens=points[-1], closes=draw(st.sampled_from(["00:30", "01:00", "02:30", "03:00"]))))
    return spans


@st.composite
def closures_of_days(draw):
    """Whole days, or from a time on the first day and until a time on the last."""
    start = draw(st.dates(date(2026, 1, 1), date(2027, 12, 31)))
    try:
        return Closure(starts=start, ends=start + timedelta(days=draw(st.integers(0, 3))),
                       from_time=draw(st.none() | st.sampled_from(GRID[:-1])),
                       until_time=draw(st.none() | st.sampled_from(GRID[1:])))
    except ValidationError:
        assume(False)


@st.composite
def opening_hours(draw):
    try:
        weekly = WeeklyHours(**{day: draw(day_spans()) for day in WEEKDAYS})
    except ValidationError:
        assume(False)
    zone = draw(st.sampled_from(ZONES))
    closures = draw(st.lists(closures_of_days(), max_size=2))
    return OpeningHours(weekly, zone, tuple(closures))


@st.composite
def moments(draw, zone_name):
    near = transitions(zone_name)
    if near and draw(st.booleans()):
        base = draw(st.sampled_from(near))
        return base + timedelta(minutes=draw(st.integers(-3 * 1440, 3 * 1440)))
    return draw(st.datetimes(datetime(2026, 1, 1), datetime(2027, 12, 31), timezones=st.just(UTC)))


@st.composite
def hours_and_moment(draw):
    hours = draw(opening_hours())
    return hours, draw(moments(hours.timezone))


def _next_open_after_is_open_is_a_span_opening_and_everything_before_it_is_closed(case, probes):
    hours, when = case
    found = hours.next_open_after(when)
    assert hours.is_open_at(when) == (found == when)
    if found is None:
        assert not any(hours.is_open_at(when + timedelta(days=d, minutes=m)) for d in range(0, 14) for m in (0, 600))
        return
    assert found >= when
    assert hours.is_open_at(found), f"next_open_after gave {found}, which is closed ({hours.timezone})"
    if found > when:
        gap = found - when
        for probe in [when + gap * share for share in probes] + [found - timedelta(minutes=1)]:
            assert probe >= found or probe < when or not hours.is_open_at(probe), f"open at {probe}, before {found}"
        zone = ZoneInfo(hours.timezone)
        local = found.astimezone(zone)
        opens = {s.opens for s in hours.weekly.spans(WEEKDAYS[local.weekday()])}
        clocks_jumped = (found - timedelta(minutes=1)).astimezone(zone).utcoffset() != local.utcoffset()
        closure_ended = any(closure_bounds(c, zone)[1] == found for c in hours.closures)
        assert local.strftime("%H:%M") in opens or clocks_jumped or closure_ended, (
            f"{found} is no opening on {local.date()}")


def _open_means_inside_a_span_on_the_local_clock(case):
    hours, when = case
    local = when.astimezone(ZoneInfo(hours.timezone))
    minute = local.hour * 60 + local.minute

    def minutes(clock: str) -> int:
        h, m = clock.split(":")
        return int(h) * 60 + int(m)

    today, yesterday = local.date(), local.date() - timedelta(days=1)
    inside_today = not hours.is_closed_on(today) and any(
        minutes(s.opens) <= minute < minutes(s.opens) + ((minutes(s.closes) - minutes(s.opens)) % 1440)
        for s in hours.weekly.spans(WEEKDAYS[today.weekday()]))
    from_last_night = not hours.is_closed_on(today) and not hours.is_closed_on(yesterday) and any(
        s.crosses_midnight and minute < minutes(s.closes) for s in hours.weekly.spans(WEEKDAYS[yesterday.weekday()]))
    assert hours.is_open_at(when) == ((inside_today or from_last_night) and not hours.is_closed_by_closure_at(when))


DST_NIGHTS = [  # spans that begin, or lie wholly, in the hour the clocks skip or repeat
    (OpeningHours(WeeklyHours(sun=[Span(opens="02:15", closes="02:30")]), "America/Chicago"),
     datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),
    (OpeningHours(WeeklyHours(sun=[Span(opens="02:30", closes="05:00")]), "America/New_York"),
     datetime(2026, 3, 8, 5, 0, tzinfo=UTC)),
    (OpeningHours(WeeklyHours(sat=[Span(opens="02:10", closes="02:20")]), "Australia/Lord_Howe"),
     datetime(2026, 10, 3, 0, 0, tzinfo=UTC)),
    # fall back: 01:15-01:45 happens twice; at the second 01:00 the second 01:15 is next
    (OpeningHours(WeeklyHours(sun=[Span(opens="01:15", closes="01:45"), Span(opens="02:00", closes="02:15")]),
                  "America/Chicago"), datetime(2026, 11, 1, 7, 0, tzinfo=UTC)),
]
test_hours_next_open, test_hours_next_open_soak = both(
    hours_and_moment(), st.lists(st.floats(0, 1, exclude_max=True), min_size=3, max_size=3),
    examples=[(case, [0.25, 0.5, 0.99]) for case in DST_NIGHTS],
)(_next_open_after_is_open_is_a_span_opening_and_everything_before_it_is_closed)
test_hours_open_on_local_clock, test_hours_open_on_local_clock_soak = both(hours_and_moment())(
    _open_means_inside_a_span_on_the_local_clock)


def _the_stored_hours_answer_as_the_validated_ones(case):
    """The voice webhook reads hours straight from the stored maps; it must agree with the models admins edit."""
    hours, when = case
    stored = OpeningHours.from_stored(hours.weekly.model_dump(mode="json"), hours.timezone,
                                      [c.model_dump(mode="json") for c in hours.closures])
    assert stored.is_open_at(when) == hours.is_open_at(when)
    assert stored.next_open_after(when) == hours.next_open_after(when)


test_hours_stored_read_agrees, test_hours_stored_read_agrees_soak = both(hours_and_moment())(
    _the_stored_hours_answer_as_the_validated_ones)
