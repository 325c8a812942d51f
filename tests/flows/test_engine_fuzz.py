"""Random messages through every flow: always a reply, never an error, and `menu` still works."""

from __future__ import annotations

import itertools
import logging

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from handlers.engine import Engine, Incoming, Media

_ids = itertools.count()

FLOW_IDS = [
    "coverage",
    "jkk",
    "jkm",
    "my_claims",
    "eligibility",
    "benefits",
    "beasiswa",
    "human",
    "about",
    "settings",
    "draft",
    "switch_facilitator",
    "fac_register",
    "fac_find",
    "cmd:menu",
    "cmd:cancel",
    "cmd:back",
    "yes",
    "no",
    "unknown",
    "send",
    "edit",
    "k:ktp_heir",
    "d:35.09.27.2002",
    "later",
    "other",
    "self",
]
WORDS = [
    "menu",
    "batal",
    "kembali",
    "bantuan",
    "bahasa",
    "BERHENTI",
    "MULAI",
    "/start",
    "1",
    "2",
    "3",
    "10",
    "99",
    "0",
    "-1",
    "ya",
    "tidak",
    "3509271505780001",
    "350927150578001",
    "3509274407850003",
    "15-05-1978",
    "31-02-2026",
    "kemarin",
    "sukoreno",
    "sumbrsari",
    "saya nelayan apa bisa ikut",
    "bapak saya meninggal",
    "kecelakaan di sawah",
    "LC-2026-000001",
    "ABCD2345",
    "\u200b\u200b",
    "مرحبا بكم",
    "🙏🙏🙏",
    "x" * 5000,
    "9" * 200,
]

message = st.one_of(
    st.sampled_from(WORDS).map(lambda w: ("text", w, None)),
    st.text(max_size=300).map(lambda w: ("text", w, None)),
    st.tuples(st.sampled_from(FLOW_IDS), st.one_of(st.none(), st.integers(0, 50).map(str))).map(
        lambda p: ("press", p[0], p[1])
    ),
    st.just(("photo", "", None)),
)


async def _send(engine: Engine, user: str, kind: str, value: str, token: str | None) -> list:
    mid = f"fuzz-{next(_ids)}"
    if kind == "press":
        inc = Incoming(
            channel="terminal",
            user_ref=user,
            message_id=mid,
            choice_id=value,
            step_token=token,
        )
    elif kind == "photo":
        inc = Incoming(
            channel="terminal",
            user_ref=user,
            message_id=mid,
            media=Media(data=b"\xff\xd8\xff" + mid.encode(), mime="image/jpeg"),
        )
    else:
        inc = Incoming(channel="terminal", user_ref=user, message_id=mid, text=value)
    return await engine.handle(inc)


@settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(messages=st.lists(message, min_size=1, max_size=25))
async def test_random_messages_always_get_a_reply_and_never_an_error(
    engine: Engine, caplog: pytest.LogCaptureFixture, messages: list
) -> None:
    user = f"fuzz-user-{next(_ids)}"
    for kind, value, token in messages:
        replies = await _send(engine, user, kind, value, token)
        assert replies, f"no reply to {kind} {value[:40]!r}"
        assert all(r.text for r in replies)
    replies = await _send(engine, user, "text", "menu", None)
    # The main menu, in whichever language the random messages chose.
    assert any(c.id == "coverage" for r in replies for c in r.choices)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors[0].getMessage()
