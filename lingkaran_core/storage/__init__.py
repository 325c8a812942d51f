"""SQLite storage: one file in WAL mode, numbered migrations, repositories."""

from lingkaran_core.storage.db import Database, Tx

__all__ = ["Database", "Tx"]
