"""Shared fixtures: a real SQLite file per test, a settable clock, and a chat driver."""

from __future__ import annotations

import argparse
import logging
import os
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from handlers.engine import Engine, Incoming, Media, Reply
from handlers.registry import build_engine
from lingkaran.channels import admin_cli
from lingkaran.settings import Settings
from lingkaran_core.clock import FixedClock as CoreFixedClock
from lingkaran_core.storage import Database


def _travel_target(spec: str) -> datetime:
    """``+400d`` (the real now moved by whole days) or an ISO instant (``2027-03-01T22:30+07:00``)."""
    if spec.startswith(("+", "-")) and spec.endswith("d"):
        return datetime.now(UTC) + timedelta(days=int(spec[:-1]))
    when = datetime.fromisoformat(spec)
    if when.tzinfo is None:
        raise pytest.UsageError(f"LINGKARAN_TEST_TRAVEL needs an offset: {spec!r}")
    return when


ROOT = Path(__file__).resolve().parents[1]
# A PostgreSQL database keeps its documents in LINGKARAN_FILES_DIR, by default ``data/files``
# relative to the working directory: the checkout, in a test run. No test may write there.
CHECKOUT_FILES = ROOT / "data" / "files"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only: needs the SQLite file itself (skipped on PostgreSQL)"
    )
    config.stash[_FILES_BEFORE] = CHECKOUT_FILES.exists()
    _travel(config)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when it created ``./data/files`` in the checkout (it was not there before)."""
    if hasattr(session.config, "workerinput"):  # xdist: the controller checks once, at the end
        return
    if session.config.stash.get(_FILES_BEFORE, True) or not CHECKOUT_FILES.exists():
        return
    found = sorted(str(p.relative_to(ROOT)) for p in CHECKOUT_FILES.rglob("*"))[:10]
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.ensure_newline()
        reporter.write_line(
            f"FAILED: the run wrote into the checkout's {CHECKOUT_FILES.relative_to(ROOT)}/ "
            f"(a PostgreSQL database without a files_dir): {found}",
            red=True,
        )
    session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not ON_POSTGRES:
        return
    skip = pytest.mark.skip(reason="SQLite file specific")
    for item in items:
        if "sqlite_only" in item.keywords:
            item.add_marker(skip)


_FILES_BEFORE = pytest.StashKey[bool]()


def _travel(config: pytest.Config) -> None:
    """``LINGKARAN_TEST_TRAVEL`` moves the process clock (time-machine) for the whole run.

    ``make test`` runs the date-sensitive suites again a year ahead and inside quiet hours: they
    must pass, because every test takes time from the injected clock only.
    """
    spec = os.environ.get("LINGKARAN_TEST_TRAVEL", "").strip()
    if not spec:
        return
    import time_machine

    traveller = time_machine.travel(_travel_target(spec), tick=True)
    traveller.start()
    config.add_cleanup(traveller.stop)


def pytest_report_header(config: pytest.Config) -> list[str]:
    spec = os.environ.get("LINGKARAN_TEST_TRAVEL", "").strip()
    lines = [f"database backend: {BACKEND}"]
    if spec:
        lines.append(
            f"process clock moved by time-machine: {spec} (now {datetime.now(UTC):%Y-%m-%d %H:%M} UTC)"
        )
    return lines


# 25 November 2026, 10:00 WIB
T0 = datetime(2026, 11, 25, 3, 0, tzinfo=UTC)
NIK_RUN = re.compile(r"(?<!\d)\d{16}(?!\d)")


class FixedClock(CoreFixedClock):
    """The core's settable clock, starting at ``T0`` (every test takes time from it only)."""

    def __init__(self, start: datetime = T0) -> None:
        super().__init__(start)


@dataclass
class ChatDriver:
    """Drives the engine like a user: send text, tap buttons, send photos; then expect."""

    engine: Engine
    clock: FixedClock
    channel: str = "terminal"
    user: str = "u1"
    replies: list[Reply] = field(default_factory=list)
    transcript: list[str] = field(default_factory=list)
    _n: int = 0

    def _mid(self) -> str:
        self._n += 1
        return f"{self.channel}-{self.user}-{self._n}"

    async def _send(self, inc: Incoming) -> list[Reply]:
        self.replies = await self.engine.handle(inc)
        for r in self.replies:
            self.transcript.append("BOT: " + r.text + "".join(f" [{c.label}]" for c in r.choices))
        return self.replies

    async def send(self, text: str, *, message_id: str | None = None) -> list[Reply]:
        """Type a message."""
        self.transcript.append("USER: " + text)
        return await self._send(
            Incoming(
                channel=self.channel,
                user_ref=self.user,
                message_id=message_id or self._mid(),
                text=text,
            )
        )

    def choices(self) -> list[tuple[str, str]]:
        """(id, label) of the choices on the last reply that has any."""
        for r in reversed(self.replies):
            if r.choices:
                return [(c.id, c.label) for c in r.choices]
        return []

    def labels(self) -> list[str]:
        """Every button label of the last turn (the menu and any message above it)."""
        return [c.label for r in self.replies for c in r.choices]

    def token(self) -> str | None:
        for r in reversed(self.replies):
            if r.step_token is not None:
                return r.step_token
        return None

    async def tap(self, label: str) -> list[Reply]:
        """Press the button whose label starts with ``label`` (case-insensitive), on any message
        of the last turn (the last one first)."""
        for r in reversed(self.replies):
            for c in r.choices:
                if c.label.lower().startswith(label.lower()) or c.id == label:
                    self.transcript.append(f"USER: (taps) {c.label}")
                    return await self._send(
                        Incoming(
                            channel=self.channel,
                            user_ref=self.user,
                            message_id=self._mid(),
                            choice_id=c.id,
                            step_token=r.step_token,
                        )
                    )
        raise AssertionError(f"no button {label!r} in {self.choices()}\n" + self.dump())

    async def press(self, choice_id: str, token: str | None) -> list[Reply]:
        """Press a raw callback (forged or stale)."""
        return await self._send(
            Incoming(
                channel=self.channel,
                user_ref=self.user,
                message_id=self._mid(),
                choice_id=choice_id,
                step_token=token,
            )
        )

    async def photo(
        self, data: bytes = b"\xff\xd8\xff fake jpeg", mime: str = "image/jpeg"
    ) -> list[Reply]:
        """Send a photo."""
        self.transcript.append("USER: (photo)")
        return await self._send(
            Incoming(
                channel=self.channel,
                user_ref=self.user,
                message_id=self._mid(),
                media=Media(data=data, mime=mime, kind="photo"),
            )
        )

    async def contact(self, phone: str) -> list[Reply]:
        """Share a contact as the user's own (Telegram's contact button, the terminal's /phone)."""
        self.transcript.append(f"USER: (shares contact) {phone}")
        return await self._send(
            Incoming(
                channel=self.channel,
                user_ref=self.user,
                message_id=self._mid(),
                contact_phone=phone,
            )
        )

    @property
    def text(self) -> str:
        """All text of the last replies."""
        return "\n".join(r.text for r in self.replies)

    def expect(self, *fragments: str) -> None:
        """Assert every fragment appears (case-insensitive) in the last replies."""
        text = self.text.lower()
        for f in fragments:
            assert f.lower() in text, f"expected {f!r} in:\n{self.text}\n---\n{self.dump()}"

    def expect_not(self, *fragments: str) -> None:
        text = self.text.lower()
        for f in fragments:
            assert f.lower() not in text, f"did not expect {f!r} in:\n{self.text}"

    def expect_choices(self, *labels: str) -> None:
        got = [lbl.lower() for _, lbl in self.choices()]
        for lbl in labels:
            assert any(g.startswith(lbl.lower()) for g in got), f"{lbl!r} not in {got}"

    def dump(self) -> str:
        return "\n".join(self.transcript[-30:])


def settings_for(**env: str) -> Settings:
    """Settings from ``env`` alone: the test process's environment never leaks in.

    In the PostgreSQL pass a test's settings keep documents in its own temporary folder
    (unless ``LINGKARAN_FILES_DIR`` or a SQLite ``LINGKARAN_DB`` is given): a PostgreSQL
    database's default folder is relative to the working directory, the checkout.
    """
    db = env.get("LINGKARAN_DB", "")
    if (
        _TEST_FILES_DIR is not None
        and "LINGKARAN_FILES_DIR" not in env
        and (not db or db.startswith(("postgresql:", "postgres:")))
    ):
        env["LINGKARAN_FILES_DIR"] = str(_TEST_FILES_DIR)
    return Settings.from_mapping(env)


_TEST_FILES_DIR: Path | None = None


def admin_args(argv: list[str], clock: FixedClock, **env: str) -> argparse.Namespace:
    """An admin command line parsed as ``lingkaran admin`` would, on the test clock."""
    return admin_cli.parse(argv, settings=settings_for(**env), clock=clock)


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock()


BACKEND = os.environ.get("LINGKARAN_TEST_BACKEND", "sqlite").strip() or "sqlite"
if BACKEND not in ("sqlite", "postgresql"):
    raise pytest.UsageError(f"LINGKARAN_TEST_BACKEND must be sqlite or postgresql: {BACKEND!r}")
ON_POSTGRES = BACKEND == "postgresql"
sqlite_only = pytest.mark.sqlite_only


@pytest.fixture(scope="session")
def pg_server(worker_id: str) -> Iterator[object]:
    """The run's PostgreSQL server (see ``tests/pg_server.py``); only on that backend."""
    if not ON_POSTGRES:
        yield None
        return
    from pg_server import PgServer

    server = PgServer.start(worker_id)
    yield server
    server.stop()


@pytest.fixture
def db_path(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Path]:
    """Where the test's database lives: a SQLite file, or on PostgreSQL a fresh database's URL.

    On PostgreSQL this is a ``str`` URL (``--db`` and ``Database.open`` take either). A test
    that needs the file itself is marked ``sqlite_only`` and is skipped there.
    """
    if not ON_POSTGRES:
        yield tmp_path / "lingkaran.db"
        return
    server = request.getfixturevalue("pg_server")
    url = server.fresh_database()
    yield url  # type: ignore[misc]
    server.drop(url)  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _files_dir_in_tmp(request: pytest.FixtureRequest) -> Iterator[None]:
    """PostgreSQL pass: every test's documents folder is a temporary one, never ./data/files.

    ``settings_for`` and the environment (``LINGKARAN_FILES_DIR``, for the ``bot.py`` processes
    a test starts and the settings a command reads) name it; a test opening a PostgreSQL
    ``Database`` itself passes ``files_dir`` (the ``db`` fixture does).
    """
    global _TEST_FILES_DIR
    if not ON_POSTGRES:
        yield
        return
    folder = request.getfixturevalue("tmp_path") / "files"
    monkeypatch = request.getfixturevalue("monkeypatch")
    monkeypatch.setenv("LINGKARAN_FILES_DIR", str(folder))
    _TEST_FILES_DIR = folder
    try:
        yield
    finally:
        _TEST_FILES_DIR = None


@pytest.fixture
async def db(db_path: Path, tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(db_path, files_dir=tmp_path / "files")
    yield database
    await database.close()


@pytest.fixture
def engine(db: Database, clock: FixedClock) -> Engine:
    return build_engine(db, clock=clock)


@pytest.fixture
def chat(engine: Engine, clock: FixedClock) -> ChatDriver:
    return ChatDriver(engine=engine, clock=clock)


@pytest.fixture(autouse=True)
def _no_full_nik_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Every test: no 16-digit run (an unmasked NIK) may reach a log record."""
    caplog.set_level(logging.INFO)
    yield
    for record in caplog.records:
        text = (
            record.getMessage()
            + " "
            + " ".join(str(v) for k, v in record.__dict__.items() if isinstance(v, str))
        )
        assert not NIK_RUN.search(text), f"unmasked NIK in log: {record.name}: {text[:200]}"


@pytest.fixture(autouse=True)
def _restore_logging() -> Iterator[None]:
    """An in-process ``lingkaran`` command configures logging; give the next test it back."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)
