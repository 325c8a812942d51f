"""Several bot instances on one database, fed like a load balancer would (tests and bench).

``Fleet`` starts ``instance_worker.py`` processes on one database URL. Each simulated user sends
its script one message at a time (the next only after the answer, as a person does), every
message to a randomly chosen live instance, so one user's messages land on different
instances. ``kill(i)`` SIGKILLs an instance; the messages it had in hand are handed to a live
one with the same message id, as a webhook redelivery or a client retry would. The fleet
records who answered what, and how long each answer took end to end.
"""

from __future__ import annotations

import heapq
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
WORKER = HERE / "instance_worker.py"


@dataclass
class _Instance:
    proc: subprocess.Popen[str]
    stdin: IO[str]
    pending: dict[str, tuple[str, str, float]] = field(default_factory=dict)  # id -> user, text
    alive: bool = True


class _Run:
    """One ``run_users`` call: which users are still walking, and what is due or outstanding."""

    def __init__(self, fleet: Fleet, scripts: dict[str, list[str]], think: float) -> None:
        self.cond = threading.Condition(fleet._mutex)  # only the run's caller waits on it
        self.scripts = scripts
        self.think = think
        self.left = sum(1 for s in scripts.values() if s)  # users not finished yet
        # Sent and not answered yet, in sending order, so the first one is the oldest: id -> deadline.
        self.outstanding: dict[str, float] = {}
        self.due: list[tuple[float, int, str, int]] = []  # think time: (when, seq, user, step)
        self.seq = 0
        self.error: BaseException | None = None
        self.over = False


class Fleet:
    """``n`` instances on ``db_url``; see the module docstring.

    The driver costs little CPU (it shares the machine with what it measures): no thread per
    user. Each instance has one reader thread; when it reads a message's first answer it sends
    that user's next message itself (or queues it for ``think`` seconds later), and the caller of
    ``run_users`` sleeps on one condition until every user is done or a message times out.
    """

    TIMEOUT = 60.0  # seconds a message may stay unanswered

    def __init__(
        self,
        db_url: str,
        n: int,
        *,
        send_url: str | None = None,
        send_rate: float | None = None,
        files: Path | None = None,
        log: Path | None = None,
        seed: int = 0,
    ) -> None:
        self.rng = random.Random(seed)
        # Re-entrant: a reader thread holding it sends the user's next message through send().
        self._mutex = threading.RLock()
        self.lock = threading.Condition(self._mutex)  # wait_answered() waits on it
        self.answers: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.instances: list[_Instance] = []
        self._chain: dict[str, tuple[_Run, str, int]] = {}  # run_users' id -> run, user, step
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("LINGKARAN_LOG_LEVEL", None)
        argv = [sys.executable, str(WORKER), "--db", db_url, "--epoch", repr(time.monotonic())]
        if send_url:
            argv += ["--send-url", send_url]
        if send_rate:
            argv += ["--send-rate", repr(send_rate)]
        if files:
            argv += ["--files", str(files)]
        err = log.open("ab") if log else subprocess.DEVNULL
        for _ in range(n):
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=err,
                text=True,
                env=env,
            )
            assert proc.stdout is not None
            assert proc.stdin is not None
            if proc.stdout.readline().strip() != "started":
                raise RuntimeError("an instance did not start")
            inst = _Instance(proc=proc, stdin=proc.stdin)
            self.instances.append(inst)
            threading.Thread(target=self._read, args=(inst,), daemon=True).start()

    def _read(self, inst: _Instance) -> None:
        assert inst.proc.stdout is not None
        for line in inst.proc.stdout:
            if not line.startswith("{"):
                continue
            got = json.loads(line)
            with self.lock:
                sent = inst.pending.pop(got["id"], None)
                if sent is None:
                    continue
                self.answers[got["id"]] += 1
                self.latencies.append(time.perf_counter() - sent[2])
                if got["replies"] == 0:
                    self.errors.append(f"no reply to {got['id']}")
                # Only the first answer goes on to the user's next message (pop: once).
                if (step := self._chain.pop(got["id"], None)) is not None:
                    self._answered(got["id"], *step)
                self.lock.notify_all()  # wait_answered(); nobody waits during run_users

    def _live(self) -> list[_Instance]:
        return [i for i in self.instances if i.alive]

    def send(self, msg_id: str, user: str, text: str) -> None:
        """Hand one message to a random live instance."""
        with self.lock:
            inst = self.rng.choice(self._live())
            inst.pending[msg_id] = (user, text, time.perf_counter())
            try:
                inst.stdin.write(json.dumps({"id": msg_id, "user": user, "text": text}) + "\n")
                inst.stdin.flush()
            except (BrokenPipeError, ValueError):
                pass  # it died just now: kill() hands its messages on

    def wait_answered(self, msg_id: str, timeout: float = 60.0) -> None:
        deadline = time.monotonic() + timeout
        with self.lock:
            while self.answers[msg_id] == 0:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise TimeoutError(f"{msg_id} never answered")
                self.lock.wait(left)

    def kill(self, index: int) -> int:
        """SIGKILL instance ``index``; its messages in hand go to the others. Its pid."""
        inst = self.instances[index]
        with self.lock:
            inst.alive = False
            inst.proc.send_signal(signal.SIGKILL)
        inst.proc.wait()
        with self.lock:
            orphans = list(inst.pending.items())
            inst.pending.clear()
        for msg_id, (user, text, _) in orphans:
            self.send(msg_id, user, text)
        return inst.proc.pid

    def run_users(self, scripts: dict[str, list[str]], *, think: float = 0.0) -> None:
        """Every user's script, users in parallel, each message after the previous answer.

        Raises ``TimeoutError`` naming a message left unanswered for ``TIMEOUT`` seconds.
        """
        run = _Run(self, scripts, think)
        with self.lock:
            try:
                for name, lines in scripts.items():
                    if lines:
                        self._step(run, name, 0)
                while run.left:
                    if run.error is not None:
                        raise run.error
                    now = time.monotonic()
                    while run.due and run.due[0][0] <= now:
                        _, _, name, k = heapq.heappop(run.due)
                        self._step(run, name, k)
                    wake = now + self.TIMEOUT
                    if run.outstanding:
                        msg_id, deadline = next(iter(run.outstanding.items()))
                        if deadline <= now:
                            raise TimeoutError(f"{msg_id} never answered")
                        wake = min(wake, deadline)
                    if run.due:
                        wake = min(wake, run.due[0][0])
                    if run.left:
                        run.cond.wait(wake - now)
            finally:
                run.over = True
                for msg_id in run.outstanding:
                    self._chain.pop(msg_id, None)

    def _step(self, run: _Run, name: str, k: int) -> None:
        """Send step ``k`` of user ``name`` (lock held)."""
        msg_id = f"{name}-{k}"
        self._chain[msg_id] = (run, name, k)
        run.outstanding[msg_id] = time.monotonic() + self.TIMEOUT
        self.send(msg_id, name, run.scripts[name][k])

    def _answered(self, msg_id: str, run: _Run, name: str, k: int) -> None:
        """First answer to ``msg_id`` (lock held, in a reader thread): on to the user's next."""
        run.outstanding.pop(msg_id, None)
        if run.over:
            return
        try:
            if k + 1 == len(run.scripts[name]):
                run.left -= 1
                if not run.left:
                    run.cond.notify()
            elif run.think:
                heapq.heappush(run.due, (time.monotonic() + run.think, run.seq, name, k + 1))
                run.seq += 1
                run.cond.notify()  # the caller sends it when it is due
            else:
                self._step(run, name, k + 1)
        except Exception as e:  # e.g. no live instance left: the caller raises it
            run.error = e
            run.cond.notify()

    def close(self, timeout: float = 120.0) -> list[int]:
        """End input, let every live instance finish and drain; their exit codes."""
        codes = []
        for inst in self._live():
            inst.stdin.close()
        for inst in self._live():
            codes.append(inst.proc.wait(timeout=timeout))
        return codes
