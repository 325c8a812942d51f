"""PTB baselines for ``bench_outbound``: ``python -m benchmarks.ptb_bots echo|conv API_ROOT DIR``.

Plain python-telegram-bot 22 applications polling a Bot API imitation, as their documentation
writes them: the echo bot (one ``MessageHandler``), and the self-screening + JKK flows of
``bench_ptb`` as a ``ConversationHandler`` with ``PicklePersistence`` at its default
``update_interval`` (60 s: not durable). ``concurrent_updates(True)`` like ours, no rate
limiter (the imitation answers at once). They stop on SIGTERM.
"""

from __future__ import annotations

import asyncio
import signal
import sys
import warnings
from pathlib import Path
from typing import Any


async def main(kind: str, api_root: str, folder: str) -> None:
    from lingkaran.channels import httpfix

    httpfix.install()  # the same environment as ours: httpcore without a failed import per lock
    warnings.simplefilter("ignore")
    from telegram.ext import Application, MessageHandler, PicklePersistence, filters

    from benchmarks.bench_ptb import TOKEN, conversation_handler

    builder = (
        Application.builder()
        .token(TOKEN)
        .base_url(f"{api_root}/bot")
        .base_file_url(f"{api_root}/file/bot")
        .concurrent_updates(True)
    )
    if kind == "conv":
        builder = builder.persistence(PicklePersistence(Path(folder) / "conv.pickle"))
    app: Any = builder.build()
    if kind == "echo":

        async def echo(update: Any, context: Any) -> None:
            await update.message.reply_text(update.message.text)

        app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
        app.add_handler(MessageHandler(filters.COMMAND, echo))
    else:
        app.add_handler(conversation_handler(persistent=True))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    loop.add_signal_handler(signal.SIGTERM, stop.set)
    loop.add_signal_handler(signal.SIGINT, stop.set)
    await app.initialize()
    await app.start()
    assert app.updater is not None
    await app.updater.start_polling(timeout=10, drop_pending_updates=False)
    await stop.wait()
    await app.updater.stop()
    await app.stop()
    await app.shutdown()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], sys.argv[2], sys.argv[3]))
