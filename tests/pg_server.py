"""A real, throwaway PostgreSQL server for the tests (Debian's ``postgresql`` package).

``make test`` runs the storage, service, flow, channel and console suites a second time with
``LINGKARAN_TEST_BACKEND=postgresql``. Each test run (each xdist worker) starts its own cluster
in a temporary folder, on a loopback port, with ``fsync`` off (a test database need not survive
a power cut), applies the migrations once to a template database, and gives every test a fresh
database cloned from it. ``LINGKARAN_TEST_PG_URL`` points at an existing server instead (a
superuser URL); nothing is started then.

Run as root (CI containers), the server runs as the ``postgres`` system user the package
creates: PostgreSQL refuses to run as root.
"""

from __future__ import annotations

import asyncio
import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import psycopg

from lingkaran_core.storage import Database

TEMPLATE = "lk_template"


def _bindir() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=_version)
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    if initdb:
        return Path(initdb).parent
    raise RuntimeError(
        "LINGKARAN_TEST_BACKEND=postgresql needs the PostgreSQL server: "
        "apt-get install postgresql (Debian), or set LINGKARAN_TEST_PG_URL"
    )


def _version(path: str) -> int:
    try:
        return int(Path(path).parent.parent.name)
    except ValueError:
        return 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class PgServer:
    """A running server and the databases the tests made on it."""

    admin_url: str
    tag: str = "main"
    folder: Path | None = None
    bindir: Path | None = None
    user: str | None = None
    _seq: itertools.count[int] = field(default_factory=itertools.count)
    _template_ready: bool = False

    @classmethod
    def start(cls, tag: str) -> PgServer:
        url = os.environ.get("LINGKARAN_TEST_PG_URL", "").strip()
        if url:
            return cls(admin_url=url, tag=tag)
        bindir = _bindir()
        folder = Path(tempfile.mkdtemp(prefix=f"lk-pg-{tag}-"))
        data = folder / "data"
        user = None
        if os.geteuid() == 0:
            user = "postgres"
            pw = pwd.getpwnam(user)
            os.chown(folder, pw.pw_uid, pw.pw_gid)
        port = _free_port()
        run = _runner(user)
        run(
            [
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                "lk",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]
        )
        opts = (
            f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=200 "
            "-c shared_buffers=64MB"
        )
        run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                opts,
                "-l",
                str(folder / "log"),
                "-w",
                "start",
            ]
        )
        return cls(
            admin_url=f"postgresql://lk@127.0.0.1:{port}/postgres",
            tag=tag,
            folder=folder,
            bindir=bindir,
            user=user,
        )

    def url(self, name: str) -> str:
        base, _, _ = self.admin_url.rpartition("/")
        return f"{base}/{name}"

    def _admin(self, sql: str) -> None:
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(sql.encode())

    def fresh_database(self) -> str:
        """A new database with the whole schema (a clone of the migrated template)."""
        tag = self.tag
        if not self._template_ready:
            self._admin(f"DROP DATABASE IF EXISTS {TEMPLATE}_{tag}")
            self._admin(f"CREATE DATABASE {TEMPLATE}_{tag}")

            async def migrate() -> None:
                db = await Database.open(self.url(f"{TEMPLATE}_{tag}"))
                await db.close()

            asyncio.run(migrate())
            self._template_ready = True
        name = f"lk_{tag}_{next(self._seq)}"
        self._admin(f"DROP DATABASE IF EXISTS {name}")
        self._admin(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}_{tag} STRATEGY FILE_COPY")
        return self.url(name)

    def drop(self, url: str) -> None:
        name = url.rpartition("/")[2]
        self._admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        if self.folder is None or self.bindir is None:
            return
        _runner(self.user)(
            [
                str(self.bindir / "pg_ctl"),
                "-D",
                str(self.folder / "data"),
                "-m",
                "immediate",
                "stop",
            ]
        )
        shutil.rmtree(self.folder, ignore_errors=True)


def _runner(user: str | None):  # type: ignore[no-untyped-def]
    def run(argv: list[str]) -> None:
        if user is not None:
            argv = ["runuser", "-u", user, "--", *argv]
        subprocess.run(argv, check=True, capture_output=True, timeout=120)

    return run
