"""Storage: SQLite (one file in WAL mode) or PostgreSQL (``pg``), migrations, repositories."""

from lingkaran_core.storage.db import Database, Tx

__all__ = ["Database", "Tx"]
