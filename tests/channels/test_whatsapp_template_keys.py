"""Every outbox message a WhatsApp user may get outside the 24 h window has a template, or is
listed here as in-window only (held until the user writes again) with the reason.

The keys are collected from the code that enqueues them (every call with ``msg_key=``), with the
audience a row's ``params`` name (``"for": "facilitator"`` -> ``<key>@facilitator``, as
``TemplateBook.for_key`` looks them up). Rows for the OPD go to the admin queue
(``services.alert_admin``, or a sweep's ``ADMIN_TARGET``: channel ``admin``) and never to a chat: they need no template.
"""

from __future__ import annotations

import ast
import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from handlers.i18n import translator
from handlers.outbound import EVENT_COVERAGE_WORDS, TO_MATCH, render
from lingkaran.channels.whatsapp import TemplateBook

ROOTS = ("lingkaran_core", "handlers", "lingkaran")

# Chat rows deliberately sent only inside the window: held when it is closed, released when the
# user writes again (the dispatcher's on_inbound) or at the daily re-examination.
IN_WINDOW_ONLY: dict[str, str] = {
    # Facilitators get the weekly summary template (lc_ringkasan_pendamping) instead of one paid
    # template per reminder; the details wait for their next message.
    "reminder.missing_docs@facilitator": "facilitator: in the weekly summary",
    "reminder.coverage_ending@facilitator": "facilitator: in the weekly summary",
    "reminder.arrears@facilitator": "facilitator: in the weekly summary",
    "ticket.new": "facilitator: open tickets are in the weekly summary and the desk",
    # Answers to something the user just did: they are almost always inside the window.
    "identity.link_attempt": "answer to the user's own link attempt",
    "identity.verified": "answer to a facilitator's check the user asked for",
    "registration.verified": "facilitator: the registration they sent, shown on their desk",
    "registration.rejected": "facilitator: the registration they sent, shown on their desk",
    "worker.verified": "the worker's notice.protected (lc_terlindungi_pemkab) says it outside the window",
    "ticket.escalated": "the answer itself comes as lc_balasan_petugas",
    # An admin's free text: no template can carry it (Meta approves fixed texts only).
    "broadcast.message": "free text of an admin broadcast",
}


@dataclass
class Enqueued:
    """What the code says about one message key."""

    admin: bool = False  # to alert_admin or ADMIN_TARGET: the OPD's queue
    chat: bool = False  # enqueued to a chat
    audiences: set[str] = field(default_factory=set)  # "" = the worker's version


def _constants(trees: list[ast.Module]) -> dict[str, str]:
    """Module-level ``NAME = "a.b"`` string constants (e.g. PHONE_CODE_MSG_KEY)."""
    found: dict[str, str] = {}
    for tree in trees:
        for node in tree.body:
            if (
                isinstance(node, ast.Assign)
                and isinstance(node.value, ast.Constant)
                and isinstance(node.value.value, str)
            ):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        found[target.id] = node.value.value
    return found


def _keys_of(node: ast.expr, constants: dict[str, str]) -> list[str]:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.IfExp):
        return _keys_of(node.body, constants) + _keys_of(node.orelse, constants)
    if isinstance(node, ast.Name) and node.id in constants:
        return [constants[node.id]]
    return []


def _audiences(call: ast.Call) -> set[str]:
    """'' for the worker's version; the ``"for"`` value of a params dict literal otherwise."""
    for kw in call.keywords:
        if kw.arg != "params" or not isinstance(kw.value, ast.Dict):
            continue
        for key, value in zip(kw.value.keys, kw.value.values, strict=True):
            if isinstance(key, ast.Constant) and key.value == "for":
                if isinstance(value, ast.Constant) and isinstance(value.value, str):
                    return {"" if value.value == "reporter" else value.value}
                return {"", "facilitator"}  # a variable role: the reporter or the facilitator
    return {""}


def _local_constants(fn: ast.AST) -> dict[str, list[str]]:
    """``msg_key = "a.b"`` assignments inside a function (both branches of an if)."""
    found: dict[str, list[str]] = {}
    for node in ast.walk(fn):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str)
        ):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found.setdefault(target.id, []).append(node.value.value)
    return found


Function = ast.FunctionDef | ast.AsyncFunctionDef


def _calls_with_msg_key(tree: ast.Module) -> list[tuple[ast.Call, Function | None]]:
    """Every call passing ``msg_key=``, with the innermost function around it."""
    out: list[tuple[ast.Call, Function | None]] = []

    def visit(node: ast.AST, fn: Function | None) -> None:
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            fn = node
        if isinstance(node, ast.Call) and any(kw.arg == "msg_key" for kw in node.keywords):
            out.append((node, fn))
        for child in ast.iter_child_nodes(node):
            visit(child, fn)

    visit(tree, None)
    return out


@functools.cache
def _scan() -> tuple[dict[str, Enqueued], list[str]]:
    """The keys, and the ``msg_key=`` arguments the scan could not resolve (file:line)."""
    trees = {
        path.as_posix(): ast.parse(path.read_text(encoding="utf-8"))
        for root in ROOTS
        for path in sorted(Path(root).rglob("*.py"))
    }
    constants = _constants(list(trees.values()))
    keys: dict[str, Enqueued] = {}
    unresolved: list[str] = []
    for path, tree in trees.items():
        for node, fn in _calls_with_msg_key(tree):
            msg_kw = [kw for kw in node.keywords if kw.arg == "msg_key"]
            local = _local_constants(fn) if fn is not None else {}
            args = {a.arg for a in (*fn.args.args, *fn.args.kwonlyargs)} if fn else set()
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
            to_admin = name == "alert_admin" or any(
                kw.arg == "target"
                and isinstance(kw.value, ast.Name)
                and kw.value.id == "ADMIN_TARGET"
                for kw in node.keywords
            )
            value = msg_kw[0].value
            found = _keys_of(value, constants)
            if not found and isinstance(value, ast.Name):
                found = local.get(value.id, [])
            passed_through = isinstance(value, ast.Attribute | ast.Subscript) or (
                isinstance(value, ast.Name) and value.id in args
            )  # a helper's own msg_key parameter, or the key of a stored row
            if not found and not passed_through:
                unresolved.append(f"{path}:{node.lineno}")
            for key in found:
                e = keys.setdefault(key, Enqueued())
                if to_admin:
                    e.admin = True
                else:
                    e.chat = True
                    e.audiences |= _audiences(node)
    return keys, unresolved


def _enqueued() -> dict[str, Enqueued]:
    return _scan()[0]


def _chat_keys() -> set[str]:
    return {
        f"{key}@{aud}" if aud else key
        for key, e in _enqueued().items()
        if e.chat
        for aud in e.audiences
    }


def test_the_scan_finds_the_keys_it_must() -> None:
    keys, unresolved = _scan()
    assert not unresolved, f"msg_key values the scan cannot read: {unresolved}"
    for key in (
        "reminder.arrears",
        "claim.flagged",
        "claim.status_changed",
        "identity.phone_code",
        "admin.claim_flagged",
        "admin.jkk_tahap_two",
    ):
        assert key in keys, key
    assert keys["claim.flagged"].audiences == {"facilitator"}
    assert keys["reminder.missing_docs"].audiences == {"", "facilitator"}


def test_every_chat_message_key_has_a_template_or_is_in_window_only_on_purpose() -> None:
    book = TemplateBook.load()
    chat = _chat_keys()
    unmapped = sorted(k for k in chat if k not in book.by_key and k not in IN_WINDOW_ONLY)
    assert not unmapped, f"held forever outside the 24 h window: {unmapped}"
    stale = sorted(k for k in IN_WINDOW_ONLY if k in book.by_key or k not in chat)
    assert not stale, f"IN_WINDOW_ONLY lists a templated or unknown key: {stale}"
    dead = sorted(k for k in book.by_key if k not in chat)
    assert not dead, f"a template stands for a key nothing sends: {dead}"


def test_admin_rows_go_to_the_admin_queue_never_to_a_chat_and_have_no_template() -> None:
    keys = _enqueued()
    admin = {k for k, e in keys.items() if e.admin}
    assert {"admin.claim_flagged", "admin.jkk_tahap_two", "admin.new_jkk"} <= admin
    for key in admin:
        assert key.startswith("admin."), key
        assert not keys[key].chat, key  # the same key is never also sent to a chat
    assert not any(k.startswith("admin.") for k in _chat_keys())
    assert not any(k.startswith("admin.") for k in TemplateBook.load().by_key)


async def test_alert_admin_enqueues_on_the_admin_channel(tmp_path: Path) -> None:
    from lingkaran_core.services import alert_admin
    from lingkaran_core.storage import Database

    db = await Database.open(tmp_path / "a.db")
    try:
        async with db.tx() as tx:
            await alert_admin(
                tx,
                now=datetime(2026, 12, 1, 3, tzinfo=UTC),
                msg_key="admin.jkk_tahap_two",
                params={"ref": "LC-1"},
                dedupe_key="t",
            )
        async with db.read() as r:
            rows = await r.all("SELECT channel, chat_id FROM outbox")
        assert [(row[0], row[1]) for row in rows] == [("admin", None)]
    finally:
        await db.close()


def test_the_arrears_template_says_what_the_chat_says_and_promises_nothing() -> None:
    book = TemplateBook.load()
    tmpl = book.for_key("reminder.arrears")
    assert tmpl is not None
    assert tmpl.name == "lc_iuran_belum_tercatat"
    assert "lc_iuran_diproses" not in book.templates  # retired: the bot cannot know that
    chat = render("reminder.arrears", {"month": "2026-10-01"}, "id").text
    body = tmpl.language("id").text
    for said in ("belum tercatat di data Pemkab", "Petugas sedang mengecek", "JMO", "175"):
        assert said in body
        assert said in chat
    lowered = body.lower()
    for never in ("memproses", "dilindungi", "tidak dilindungi", "dijamin", "pasti"):
        assert never not in lowered
    english = tmpl.language("en").text.lower()
    assert "processing" not in english
    assert "protected" not in english
    assert "checking" in english
    assert tmpl.body_values({"month": "2026-10-01"}, "id") == ["peserta", "Oktober 2026"]


def test_the_flagged_report_reaches_a_facilitator_by_template_in_the_chats_words() -> None:
    book = TemplateBook.load()
    assert book.for_key("claim.flagged") is None  # no worker's version: only facilitators
    tmpl = book.for_key("claim.flagged", {"for": "facilitator"})
    assert tmpl is not None
    for lang in ("id", "en"):
        t = translator(lang)
        tl = tmpl.language(lang)
        assert dict(tl.labels["event_coverage"]) == {
            k: t(v) for k, v in EVENT_COVERAGE_WORDS.items()
        }
        assert tl.defaults["event_coverage"] == t(TO_MATCH)
    params = {"ref": "LC-2026-000007", "event_coverage": "unpaid", "for": "facilitator"}
    values = tmpl.body_values(params, "id")
    assert values == ["LC-2026-000007", "iuran bulan kejadian belum tercatat"]
    chat = render("claim.flagged", params, "id").text
    assert "perlu dicek: menurut data Pemkab, iuran bulan kejadian belum tercatat" in chat
    assert "menurut data Pemkab" in tmpl.language("id").text


def test_the_guide_gives_every_template_text_for_submission() -> None:
    guide = Path("docs/whatsapp.md").read_text(encoding="utf-8")
    for tmpl in TemplateBook.load().templates.values():
        assert f"### `{tmpl.name}` ({tmpl.category})" in guide, tmpl.name
        for lang in tmpl.languages.values():
            assert lang.text in guide, (tmpl.name, lang.code)
