"""The review page's word-by-word diff: what changed within a line, in bounded time."""

from __future__ import annotations

import time

from templates_store.diffing import MAX_WORD_TOKENS, word_diff


def _joined(segments: list[dict[str, str]], *ops: str) -> str:
    return "".join(s["text"] for s in segments if s["op"] in ops)


def test_changed_words_are_marked_inside_an_otherwise_equal_line() -> None:
    segments = word_diff(
        "Hi {{ name }}, your order is confirmed.\nThanks",
        "Hi {{ name }}, your parcel is on its way.\nThanks",
    )
    assert {"op": "delete", "text": "order"} in segments
    assert {"op": "insert", "text": "parcel"} in segments
    assert {"op": "delete", "text": "confirmed"} in segments
    assert {"op": "insert", "text": "on its way"} in segments


def test_both_sides_are_rebuilt_exactly_from_the_segments() -> None:
    old, new = "a b c\nd e\n\nf", "a x c\nd e f\ng\n"
    segments = word_diff(old, new)
    assert _joined(segments, "equal", "delete") == old
    assert _joined(segments, "equal", "insert") == new


def test_an_added_or_removed_part_is_one_insertion_or_deletion() -> None:
    assert word_diff("", "New text") == [{"op": "insert", "text": "New text"}]
    assert word_diff("Old text", "") == [{"op": "delete", "text": "Old text"}]


def test_a_huge_hostile_change_is_shown_whole_and_quickly() -> None:
    old = " ".join(["ab", "ba", "aa"] * MAX_WORD_TOKENS)
    new = " ".join(["ba", "aa", "ab"] * MAX_WORD_TOKENS)
    runs = "\n".join(f"{old}\nkept line {i}" for i in range(20))
    started = time.perf_counter()
    segments = word_diff(runs, runs.replace(old, new))
    assert time.perf_counter() - started < 2
    assert _joined(segments, "equal", "insert") == runs.replace(old, new)
