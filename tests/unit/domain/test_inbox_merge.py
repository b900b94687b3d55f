"""Merging several lines' newest-first pages into one inbox page."""

from switchboard.rules.conversations import newest_first


def test_the_newest_across_lines_come_first_and_each_line_keeps_its_order():
    lines = {"front": [9, 7, 2], "billing": [8, 3], "lab": []}
    merged = newest_first(lines, 4, key=lambda n: n)
    assert merged.items == [9, 8, 7, 3]
    assert dict(merged.counts) == {"front": 2, "billing": 2, "lab": 0}


def test_a_stream_out_of_order_is_never_reordered_so_it_resumes_where_it_stopped():
    merged = newest_first({"a": [5, 6, 1], "b": [4]}, 3, key=lambda n: n)
    assert merged.items == [5, 6, 4] and merged.counts["a"] == 2


def test_fewer_than_the_limit_takes_everything():
    merged = newest_first({"a": [2], "b": [1]}, 10, key=lambda n: n)
    assert merged.items == [2, 1] and sum(merged.counts.values()) == 2
