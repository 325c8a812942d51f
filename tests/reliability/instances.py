"""Several bot instances on one database, fed like a load balancer would (tests and bench).

``Fleet`` starts ``instance_worker.py`` processes on one database URL. Each simulated user sends
its script one message at a time (the next only after the answer, as a person does), every
message to a randomly chosen live instance, so one user's messages land on different
instances. ``kill(i)`` SIGKILLs an instance; the messages it had in hand are handed to a live
one with the same message id, as a webhook redelivery or a client retry would. The fleet
records who answered what, and how long each answer took end to end.
"""

from __future__ import annotations

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


class Fleet:
    """``n`` instances on ``db_url``; see the module docstring."""

    def __init__(
        self,
        db_url: str,
        n: int,
        *,
        send_url: str | None = None,
        files: Path | None = None,
        log: Path | None = None,
        seed: int = 0,
    ) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Condition()
        self.answers: Counter[str] = Counter()
        self.latencies: list[float] = []
        self.errors: list[str] = []
        self.instances: list[_Instance] = []
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        env.pop("LINGKARAN_LOG_LEVEL", None)
        argv = [sys.executable, str(WORKER), "--db", db_url, "--epoch", repr(time.monotonic())]
        if send_url:
            argv += ["--send-url", send_url]
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
                if sent is not None:
                    self.answers[got["id"]] += 1
                    self.latencies.append(time.perf_counter() - sent[2])
                    if got["replies"] == 0:
                        self.errors.append(f"no reply to {got['id']}")
                self.lock.notify_all()

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
        """Every user's script, users in parallel, each message after the previous answer."""

        def user(name: str, lines: list[str]) -> None:
            for k, text in enumerate(lines):
                msg_id = f"{name}-{k}"
                self.send(msg_id, name, text)
                self.wait_answered(msg_id)
                if think:
                    time.sleep(think)

        threads = [threading.Thread(target=user, args=(u, s)) for u, s in scripts.items()]
        for t in threads:
            t.start()
        for t in threads:
            t.join()

    def close(self, timeout: float = 120.0) -> list[int]:
        """End input, let every live instance finish and drain; their exit codes."""
        codes = []
        for inst in self._live():
            inst.stdin.close()
        for inst in self._live():
            codes.append(inst.proc.wait(timeout=timeout))
        return codes
