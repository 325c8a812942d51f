"""The fleet driver itself (``instances.Fleet``): the users' walk, think time, timeouts, retries.

One real instance process on the test's backend; the fleet has no thread per user, so these
check that the event-driven walk still behaves as a person would: each message only after the
previous answer, ``think`` seconds between them, a hung instance reported by message id rather
than waited on for ever, and a redelivered message's second answer not taken as the go-ahead
for a second copy of the user's next message.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path

import pytest
from instances import Fleet

from benchmarks.bench_engine import ELIGIBILITY


def _ids(scripts: dict[str, list[str]]) -> set[str]:
    return {f"{u}-{k}" for u, s in scripts.items() for k in range(len(s))}


def test_every_user_walks_its_script_one_answer_at_a_time(db_path: str, tmp_path: Path) -> None:
    scripts = {f"u{i}": ELIGIBILITY for i in range(6)} | {"empty": []}
    fleet = Fleet(str(db_path), 1, files=tmp_path / "files")
    sent: list[tuple[str, float]] = []
    answered: dict[str, float] = {}
    send, read = fleet.send, fleet._answered

    def spy_send(msg_id: str, user: str, text: str) -> None:
        sent.append((msg_id, time.monotonic()))
        send(msg_id, user, text)

    def spy_answered(msg_id: str, *rest: object) -> None:
        answered[msg_id] = time.monotonic()
        read(msg_id, *rest)  # type: ignore[arg-type]

    fleet.send = spy_send  # type: ignore[method-assign]
    fleet._answered = spy_answered  # type: ignore[method-assign]
    fleet.run_users(scripts, think=0.05)
    assert fleet.close() == [0]
    assert set(fleet.answers) == _ids(scripts)
    assert set(fleet.answers.values()) == {1}
    assert fleet.errors == []
    assert len(fleet.latencies) == len(sent) == len(_ids(scripts))
    at = dict(sent)
    for u, script in scripts.items():
        for k in range(1, len(script)):
            # Sent only after the previous answer, and a think time later.
            assert at[f"{u}-{k}"] - answered[f"{u}-{k - 1}"] >= 0.05 - 0.005


def test_a_hung_instance_raises_timeout_naming_the_message(db_path: str, tmp_path: Path) -> None:
    fleet = Fleet(str(db_path), 1, files=tmp_path / "files")
    fleet.TIMEOUT = 1.0
    pid = fleet.instances[0].proc.pid
    os.kill(pid, signal.SIGSTOP)
    try:
        began = time.monotonic()
        with pytest.raises(TimeoutError, match="late-0 never answered"):
            fleet.run_users({"late": ELIGIBILITY})
        assert time.monotonic() - began < 10
    finally:
        os.kill(pid, signal.SIGCONT)
    fleet.wait_answered("late-0")
    time.sleep(0.3)
    assert "late-1" not in fleet.answers, "the timed-out run sent nothing more"
    assert fleet.close() == [0]


def test_a_second_answer_to_a_redelivered_message_does_not_send_the_next_twice(
    db_path: str, tmp_path: Path
) -> None:
    fleet = Fleet(str(db_path), 1, files=tmp_path / "files")
    sent: list[str] = []
    send = fleet.send

    def spy(msg_id: str, user: str, text: str) -> None:
        sent.append(msg_id)
        send(msg_id, user, text)

    fleet.send = spy  # type: ignore[method-assign]
    script = ELIGIBILITY[:3]
    users = threading.Thread(target=fleet.run_users, args=({"u": script},), kwargs={"think": 0.5})
    users.start()
    fleet.wait_answered("u-0")
    fleet.send("u-0", "u", script[0])  # a client retry of the answered message
    deadline = time.monotonic() + 30
    while fleet.answers["u-0"] < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert fleet.answers["u-0"] == 2
    users.join(timeout=30)
    assert not users.is_alive()
    assert fleet.close() == [0]
    assert sent == ["u-0", "u-0", "u-1", "u-2"]
    assert fleet.answers["u-1"] == fleet.answers["u-2"] == 1
