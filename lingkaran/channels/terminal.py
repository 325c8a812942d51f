"""The terminal chat: the same flows as Telegram and WhatsApp, offline.

Choices render as a numbered list; ``/photo PATH`` sends a file; ``/phone [08…]`` shares a phone
number as the user's own contact (as Telegram's contact button does), which plays the
"roster phone proven by the channel" link factor: the terminal runs on the operator's machine. When stdin is not a terminal, one
user message is read per line and the bot's replies are printed, so a conversation can be piped.
"""

from __future__ import annotations

import asyncio
import mimetypes
import sys
import uuid
from pathlib import Path
from typing import TextIO

from handlers.engine import Engine, Incoming, Media, Reply

CHANNEL = "terminal"


def render(reply: Reply) -> str:
    """A reply as terminal text: the message, then its numbered choices."""
    lines = [reply.text]
    for i, c in enumerate(reply.choices, 1):
        lines.append(f"  {i}. {c.label}" + (f": {c.description}" if c.description else ""))
    if reply.request == "photo":
        lines.append("  [/photo PATH]")
    elif reply.request == "contact":
        lines.append("  [/phone 08…]")
    return "\n".join(lines)


def to_incoming(line: str, *, user: str, phone: str | None = None) -> Incoming:
    """One typed line as an Incoming message (``/photo PATH`` becomes a media message).

    ``/phone 0812…`` (or ``/phone`` alone with the session's ``phone``) is a shared own contact.
    """
    mid = f"term-{uuid.uuid4().hex}"
    stripped = line.strip()
    if stripped == "/phone" or stripped.startswith("/phone "):
        number = stripped[len("/phone") :].strip() or (phone or "")
        if not number:
            return Incoming(
                channel=CHANNEL,
                user_ref=user,
                message_id=mid,
                rejected_media="Nomor HP belum diatur: ketik /phone 08…",
            )
        return Incoming(channel=CHANNEL, user_ref=user, message_id=mid, contact_phone=number)
    if stripped.startswith("/photo ") or stripped.startswith("/file "):
        path = Path(stripped.split(" ", 1)[1].strip()).expanduser()
        try:
            data = path.read_bytes()
        except OSError:
            return Incoming(
                channel=CHANNEL,
                user_ref=user,
                message_id=mid,
                text=None,
                rejected_media="Berkas tidak ditemukan: periksa lagi alamat berkasnya.",
            )
        mime = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        return Incoming(
            channel=CHANNEL,
            user_ref=user,
            message_id=mid,
            media=Media(
                data=data,
                mime=mime,
                kind="photo" if mime.startswith("image/") else "document",
                filename=path.name,
            ),
        )
    return Incoming(channel=CHANNEL, user_ref=user, message_id=mid, text=line)


async def run_chat(
    engine: Engine,
    *,
    user: str,
    stdin: TextIO = sys.stdin,
    stdout: TextIO = sys.stdout,
    greet: bool = True,
    phone: str | None = None,
) -> None:
    """Read lines, print replies, until EOF or ``/quit`` (``phone``: what ``/phone`` shares)."""
    interactive = stdin.isatty()
    loop = asyncio.get_running_loop()

    def out(text: str) -> None:
        stdout.write(text + "\n")
        stdout.flush()

    if interactive:
        out("Lingkaran Cinta: obrolan terminal. Ketik /quit untuk keluar, /photo PATH untuk foto.")
    if greet and interactive:
        for r in await engine.handle(to_incoming("menu", user=user)):
            out(("\nBot: " if interactive else "") + render(r))
    while True:
        if interactive:
            stdout.write("\nAnda> ")
            stdout.flush()
        line = await loop.run_in_executor(None, stdin.readline)
        if not line:
            break
        line = line.rstrip("\n")
        if line.strip() in ("/quit", "/exit"):
            break
        if not line.strip():
            continue
        if not interactive:
            out(f"> {line}")
        for r in await engine.handle(to_incoming(line, user=user, phone=phone)):
            out(("\nBot: " if interactive else "") + render(r))
