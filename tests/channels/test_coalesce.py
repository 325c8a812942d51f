"""Consecutive plain replies travel as one chat message."""

from __future__ import annotations

from handlers.engine import Choice, Reply
from lingkaran.channels.base import coalesce


def test_notes_join_the_question_that_follows_them() -> None:
    out = coalesce(
        [
            Reply(text="Data cocok."),
            Reply(text="Dilindungi."),
            Reply(text="Menu?", choices=(Choice(id="a", label="A"),), step_token="4"),
        ],
        max_len=4096,
    )
    assert len(out) == 1
    assert out[0].text == "Data cocok.\n\nDilindungi.\n\nMenu?"
    assert out[0].choices
    assert out[0].step_token == "4"


def test_a_reply_with_buttons_or_a_request_ends_its_message() -> None:
    out = coalesce(
        [
            Reply(text="Pilih", choices=(Choice(id="a", label="A"),)),
            Reply(text="Foto?", request="photo"),
            Reply(text="x"),
        ],
        max_len=4096,
    )
    assert [r.text for r in out] == ["Pilih", "Foto?", "x"]


def test_joining_stops_at_the_length_limit_and_never_takes_a_stale_press_note() -> None:
    long = "a" * 600
    out = coalesce([Reply(text=long), Reply(text=long), Reply(text="q")], max_len=1024)
    assert [len(r.text) for r in out] == [600, 603]
    stale = coalesce([Reply(text="old", stale_press=True), Reply(text="q")], max_len=4096)
    assert len(stale) == 2
