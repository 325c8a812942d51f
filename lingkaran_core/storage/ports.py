"""The storage interfaces the layers above program against (``typing.Protocol``).

``UnitOfWork`` is what ``Database`` (SQLite) and ``pg.PgDatabase`` (PostgreSQL) both are: units
of work (one transaction each) and where documents live. ``ConversationStore`` is what the
dialog engine needs to handle one message in one transaction: record the inbound id and load the
chat and its state (``begin``), save the state and the replies to replay (``finish``), and
confirm delivered replies (``mark_sent``). ``SqlConversationStore`` is the implementation on
either backend (``storage/chats.py``); each call is one round trip to the connection's thread
(on SQLite, often none: see ``Tx.run_inline``). mypy checks both backends against these.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from lingkaran_core.storage import chats
from lingkaran_core.storage.db import Database, Tx

if TYPE_CHECKING:
    from lingkaran_core.storage.chats import ConversationState, MessageStart

__all__ = ["ConversationStore", "SqlConversationStore", "UnitOfWork"]


class UnitOfWork(Protocol):
    """A database: transactions, consistent reads, the documents folder."""

    dialect: str
    files_dir: Path

    def tx(self) -> AbstractAsyncContextManager[Tx]: ...

    def read(self) -> AbstractAsyncContextManager[Tx]: ...

    async def close(self) -> None: ...


class ConversationStore(Protocol):
    """The engine's one-transaction-per-message storage."""

    async def begin(
        self,
        tx: Tx,
        *,
        channel: str,
        message_id: str,
        user_ref: str,
        now_iso: str,
        display_name: str | None,
        inline: bool = True,
    ) -> MessageStart: ...

    async def finish(
        self,
        tx: Tx,
        *,
        chat_id: int,
        state: ConversationState,
        now_iso: str,
        message_id: str,
        replies: list[dict[str, Any]] | None,
        inline: bool = True,
    ) -> None: ...

    async def mark_sent(self, tx: Tx, sent: Sequence[tuple[str, str, str]]) -> None: ...


class SqlConversationStore:
    """``ConversationStore`` on the SQL of ``storage/chats.py`` (SQLite or PostgreSQL)."""

    async def begin(
        self,
        tx: Tx,
        *,
        channel: str,
        message_id: str,
        user_ref: str,
        now_iso: str,
        display_name: str | None,
        inline: bool = True,
    ) -> MessageStart:
        run = tx.run_inline if inline else tx.run
        return await run(
            chats.begin_message_sync, channel, message_id, user_ref, now_iso, display_name
        )

    async def finish(
        self,
        tx: Tx,
        *,
        chat_id: int,
        state: ConversationState,
        now_iso: str,
        message_id: str,
        replies: list[dict[str, Any]] | None,
        inline: bool = True,
    ) -> None:
        commit = tx.commit_inline if inline else tx.run_and_commit
        await commit(chats.finish_message_sync, chat_id, state, now_iso, message_id, replies)

    async def mark_sent(self, tx: Tx, sent: Sequence[tuple[str, str, str]]) -> None:
        await tx.run_and_commit(chats.mark_replies_sent_sync, list(sent))


def _conforms(db: Database, store: SqlConversationStore) -> tuple[UnitOfWork, ConversationStore]:
    """Never called: mypy checks here that the implementations satisfy the interfaces."""
    return db, store
