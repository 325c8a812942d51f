"""Pure parts of the Telegram adapter: text splitting, callback data, keyboards, error mapping,
reading raw updates."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import FixedClock

from handlers.engine import Choice, Reply
from lingkaran.channels.base import HoldMessage, RetryLater, Undeliverable
from lingkaran.channels.telegram import (
    BadRequest,
    ConfigError,
    Forbidden,
    NetworkError,
    Press,
    RetryAfter,
    TelegramConfig,
    TelegramSender,
    TimedOut,
    Unreadable,
    build_keyboard,
    command_text,
    decode_callback,
    encode_callback,
    parse_update,
    render_reply,
    split_text,
    utf16_len,
)
from lingkaran.settings import Settings
from lingkaran_core.storage import Database

# -- split_text ----------------------------------------------------------------------------------


def test_a_short_text_is_one_chunk() -> None:
    assert split_text("Halo") == ["Halo"]


def test_blank_text_gives_no_chunks() -> None:
    assert split_text("  \n ") == []


def test_a_long_text_splits_on_line_boundaries_and_loses_nothing() -> None:
    text = "\n".join(f"baris {i:03d} " + "x" * 90 for i in range(200))
    parts = split_text(text)
    assert len(parts) > 1
    assert all(utf16_len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(p.startswith("baris ") for p in parts)


def test_a_line_longer_than_the_limit_is_cut_at_a_space() -> None:
    parts = split_text("kata " * 100, 50)
    assert all(len(p) <= 50 for p in parts)
    assert " ".join(parts).split() == ["kata"] * 100


def test_a_line_without_spaces_is_cut_hard() -> None:
    parts = split_text("x" * 120, 50)
    assert [len(p) for p in parts] == [50, 50, 20]


def test_emoji_count_as_two_utf16_units() -> None:
    parts = split_text("😀" * 30, 20)
    assert all(utf16_len(p) <= 20 for p in parts)
    assert "".join(parts) == "😀" * 30


# -- callback data --------------------------------------------------------------------------------


def test_callback_data_is_token_bar_choice_id() -> None:
    assert encode_callback("12", "jkk", 0) == "12|jkk"
    assert decode_callback("12|jkk") == Press(step_token="12", choice_id="jkk")


def test_a_choice_id_too_long_for_64_bytes_becomes_an_index() -> None:
    long_id = "heir:" + "ä" * 40  # 85 bytes in UTF-8
    data = encode_callback("7", long_id, 3)
    assert data == "7#3"
    assert decode_callback(data) == Press(step_token="7", index=3)


def test_callback_data_at_exactly_64_bytes_keeps_the_id() -> None:
    choice = "c" * 61
    assert encode_callback("12", choice, 0) == f"12|{choice}"
    assert len(encode_callback("12", choice, 0).encode()) == 64


def test_choice_ids_with_separators_survive() -> None:
    assert decode_callback(encode_callback("4", "cmd:a|b#c", 0)) == Press(
        step_token="4", choice_id="cmd:a|b#c"
    )


def test_a_reply_without_token_encodes_an_empty_token() -> None:
    assert decode_callback(encode_callback(None, "menu", 0)) == Press(
        step_token=None, choice_id="menu"
    )


@pytest.mark.parametrize("data", ["", "pay:yes", "abc|x", "5#x", "5|", "5#"])
def test_foreign_callback_data_is_ignored(data: str) -> None:
    assert decode_callback(data) is None


# -- keyboards and rendering ------------------------------------------------------------------------


def _reply(*labels: str, request: Any = None, text: str = "Pilih") -> Reply:
    choices = tuple(Choice(id=f"c{i}", label=lbl) for i, lbl in enumerate(labels))
    return Reply(text=text, choices=choices, step_token="9", request=request)


def test_short_labels_go_two_to_a_row_and_long_ones_alone() -> None:
    kb = build_keyboard(_reply("Ya", "Tidak", "Lapor kecelakaan kerja sekarang", "Batal"))
    assert kb is not None
    rows = [[b["text"] for b in row] for row in kb["inline_keyboard"]]
    assert rows == [["Ya", "Tidak"], ["Lapor kecelakaan kerja sekarang"], ["Batal"]]
    assert kb["inline_keyboard"][0][1]["callback_data"] == "9|c1"


def test_a_contact_request_without_choices_carries_the_contact_keyboard() -> None:
    out = render_reply(_reply(request="contact", text="Nomor HP?"))
    assert len(out) == 1
    markup = out[0].markup
    assert markup is not None
    assert markup["keyboard"] == [[{"text": "Kirim nomor HP saya", "request_contact": True}]]
    assert markup["one_time_keyboard"] is True


def test_a_contact_request_with_choices_is_one_message_with_the_choices_below() -> None:
    # One budgeted send: the request button first, the choices as text buttons under it.
    out = render_reply(_reply("Pakai nomor ini", "Lewati", request="contact", text="Nomor HP?"))
    assert len(out) == 1
    assert out[0].text == "Nomor HP?"
    markup = out[0].markup
    assert markup is not None
    assert [[b["text"] for b in row] for row in markup["keyboard"]] == [
        ["Kirim nomor HP saya"],
        ["Pakai nomor ini"],
        ["Lewati"],
    ]
    assert "inline_keyboard" not in markup


def test_only_the_last_part_of_a_long_reply_has_the_keyboard() -> None:
    out = render_reply(_reply("Oke", text="\n".join("y" * 100 for _ in range(100))))
    assert len(out) == 3
    assert [o.markup is None for o in out] == [True, True, False]


def test_markup_characters_are_sent_verbatim() -> None:
    name = "Siti_*[Aminah]* <b>&amp;"
    assert render_reply(Reply(text=f"Nama: {name}"))[0].text == f"Nama: {name}"


# -- configuration -----------------------------------------------------------------------------------


def test_config_needs_a_token() -> None:
    with pytest.raises(ConfigError, match="TELEGRAM_BOT_TOKEN"):
        TelegramConfig.from_settings(Settings.from_mapping({}))


def test_config_refuses_a_webhook_without_a_secret() -> None:
    with pytest.raises(ConfigError, match="secret"):
        TelegramConfig.from_settings(
            Settings.from_mapping(
                {"TELEGRAM_BOT_TOKEN": "1:a", "TELEGRAM_WEBHOOK_URL": "https://x.id/tg/hook"}
            )
        )


def test_config_reads_the_api_root_and_flags_override_the_environment() -> None:
    cfg = TelegramConfig.from_settings(
        Settings.from_mapping(
            {
                "TELEGRAM_BOT_TOKEN": "1:a",
                "TELEGRAM_API_BASE_URL": "http://127.0.0.1:8081/",
                "TELEGRAM_WEBHOOK_URL": "https://x.id/env",
                "TELEGRAM_WEBHOOK_SECRET": "s",
            }
        ),
        webhook_url="https://x.id/tg/hook",
        secret_token=None,
    )
    assert cfg.api_root == "http://127.0.0.1:8081"
    assert cfg.webhook_url == "https://x.id/tg/hook"
    assert cfg.webhook_path == "/tg/hook"
    assert cfg.secret_token == "s"


# -- the outbox sender's error mapping ----------------------------------------------------------------


class _Raising:
    """Stands in for the channel: ``send_replies`` raises the given error."""

    def __init__(self, exc: Exception, db: Database) -> None:
        self.exc = exc
        self.db = db
        self.blocked: list[str] = []

    async def send_replies(self, chat_id: int, replies: Any, **kw: Any) -> list[int]:
        raise self.exc

    async def set_blocked(self, user_ref: str, *, blocked: bool) -> bool:
        self.blocked.append(user_ref)
        return True


@pytest.mark.parametrize(
    ("exc", "expected", "retry_after"),
    [
        (RetryAfter("Too Many Requests", retry_after=7), RetryLater, 7.0),
        (TimedOut("sendMessage timed out"), RetryLater, None),
        (NetworkError("connection reset"), RetryLater, None),
        # A block is not final: the chat is marked and its rows wait (held) for an unblock.
        (Forbidden("Forbidden: bot was blocked by the user"), HoldMessage, None),
        (Forbidden("Forbidden: user is deactivated"), Undeliverable, None),
        (BadRequest("Bad Request: chat not found"), Undeliverable, None),
    ],
)
async def test_sender_maps_telegram_errors_for_the_dispatcher(
    exc: Exception, expected: type[Exception], retry_after: float | None, db: Database
) -> None:
    channel = _Raising(exc, db)
    sender = TelegramSender(channel)  # type: ignore[arg-type]
    with pytest.raises(expected) as caught:
        await sender.send_reply("1001", Reply(text="Kabar klaim"))
    if retry_after is not None:
        assert isinstance(caught.value, RetryLater)
        assert caught.value.retry_after == retry_after
    assert channel.blocked == (["1001"] if expected is HoldMessage else [])


async def test_sender_refuses_a_user_ref_that_is_not_a_chat_id(db: Database) -> None:
    sender = TelegramSender(_Raising(AssertionError(), db))  # type: ignore[arg-type]
    with pytest.raises(Undeliverable):
        await sender.send_reply("6281234567890x", Reply(text="x"))


# -- presses with an index, before and after a restart -----------------------------------------------


def _press_update(data: str, keyboard: list[list[dict[str, str]]]) -> Any:
    message = {
        "message_id": 11,
        "date": 1735689601,
        "chat": {"id": 1001, "type": "private"},
        "text": "Siapa ahli warisnya?",
        "reply_markup": {"inline_keyboard": keyboard},
    }
    raw = {
        "update_id": 2,
        "callback_query": {
            "id": "cbq-1",
            "chat_instance": "ci-1",
            "data": data,
            "from": {"id": 1001, "is_bot": False, "first_name": "Ani"},
            "message": message,
        },
    }
    return parse_update(raw)


def test_an_index_press_resolves_from_memory_or_from_the_button_label() -> None:
    from lingkaran.channels.telegram import TelegramChannel

    channel = TelegramChannel(None, TelegramConfig(token="1:a"), engine=None, clock=FixedClock())  # type: ignore[arg-type]
    long_id = "heir:" + "x" * 70
    keyboard = [[{"text": "Anak kandung", "callback_data": "5#0"}]]
    press = _press_update("5#0", keyboard).press
    # Same process: the choice id is remembered.
    channel._remember_choices(1001, 11, (long_id,))
    inc = channel.incoming_from_press(press)
    assert inc is not None
    assert (inc.choice_id, inc.text, inc.step_token) == (long_id, None, "5")
    assert inc.message_id == "cb:cbq-1"
    # After a restart: the label on the pressed button is answered as text, same step token.
    fresh = TelegramChannel(None, TelegramConfig(token="1:a"), engine=None, clock=FixedClock())  # type: ignore[arg-type]
    inc = fresh.incoming_from_press(press)
    assert inc is not None
    assert (inc.choice_id, inc.text, inc.step_token) == (None, "Anak kandung", "5")


# -- reading raw updates ----------------------------------------------------------------------------


def _message(**content: Any) -> dict[str, Any]:
    return {
        "update_id": 9,
        "message": {
            "message_id": 3,
            "date": 1735689600,
            "chat": {"id": 1001, "type": "private"},
            "from": {"id": 1001, "is_bot": False, "first_name": "Ani", "language_code": "id"},
            **content,
        },
    }


def test_an_update_is_read_into_the_few_facts_the_bot_uses() -> None:
    update = parse_update(_message(text="halo"))
    assert (update.update_id, update.kind, update.key, update.chat_id) == (
        9,
        "message",
        "1001:3",
        1001,
    )
    assert update.message is not None
    assert (update.message.text, update.message.kind, update.private) == ("halo", "text", True)
    assert update.message.sender is not None
    assert update.message.sender.first_name == "Ani"
    photo = parse_update(_message(photo=[{"file_id": "a", "file_size": 9}, {"file_id": "b"}]))
    assert photo.message is not None
    assert [p.file_id for p in photo.message.photo] == ["a", "b"]
    press = _press_update("5|jkk", [[{"text": "Lapor", "callback_data": "5|jkk"}]])
    assert (press.kind, press.key, press.chat_id) == ("callback_query", "cb:cbq-1", 1001)


_PHOTO = {"file_id": "a", "file_unique_id": "ua", "width": 90, "height": 90, "file_size": 9}
_DOC = {
    "file_id": "d",
    "file_unique_id": "ud",
    "mime_type": "application/pdf",
    "file_name": "k.pdf",
}
_CHAT = {"id": 1001, "type": "private"}
_FROM = {"id": 1001, "is_bot": False, "first_name": "Ani", "language_code": "en"}


@pytest.mark.parametrize(
    "raw",
    [
        _message(text="halo"),
        _message(text="/start K7PQ"),
        _message(photo=[_PHOTO, {**_PHOTO, "file_id": "b", "file_size": 99}]),
        _message(document=_DOC),
        _message(contact={"phone_number": "6281234", "first_name": "Ani", "user_id": 1001}),
        _message(location={"latitude": -8.1, "longitude": 113.7}),
        _message(
            location={"latitude": -8.1, "longitude": 113.7},
            venue={
                "location": {"latitude": -8.1, "longitude": 113.7},
                "title": "Pasar",
                "address": "Jl. 1",
            },
        ),
        _message(
            sticker={
                "file_id": "s",
                "file_unique_id": "us",
                "width": 1,
                "height": 1,
                "is_animated": False,
                "is_video": False,
                "type": "regular",
            }
        ),
        _message(pinned_message={"message_id": 1, "date": 0, "chat": _CHAT}),
        {
            "update_id": 10,
            "edited_message": {
                "message_id": 3,
                "date": 1735689600,
                "edit_date": 1735689700,
                "chat": _CHAT,
                "from": _FROM,
                "text": "halo lagi",
            },
        },
        {
            "update_id": 11,
            "callback_query": {
                "id": "q",
                "chat_instance": "ci",
                "data": "5|jkk",
                "from": _FROM,
                "message": {
                    "message_id": 11,
                    "date": 1735689601,
                    "chat": _CHAT,
                    "text": "Pilih",
                    "reply_markup": {
                        "inline_keyboard": [[{"text": "Lapor", "callback_data": "5|jkk"}]]
                    },
                },
            },
        },
        {
            "update_id": 12,
            "callback_query": {
                "id": "q2",
                "chat_instance": "ci",
                "data": "5|jkk",
                "from": _FROM,
                "message": {"message_id": 11, "date": 0, "chat": _CHAT},
            },
        },
        {
            "update_id": 13,
            "my_chat_member": {
                "chat": _CHAT,
                "from": _FROM,
                "date": 1735689600,
                "old_chat_member": {"status": "member", "user": _FROM},
                "new_chat_member": {"status": "kicked", "until_date": 0, "user": _FROM},
            },
        },
    ],
)
def test_ptbs_update_and_the_raw_reader_give_the_same_facts(raw: dict[str, Any]) -> None:
    from telegram import Update

    from lingkaran.channels.telegram.updates import update_from_ptb

    assert update_from_ptb(Update.de_json(raw, None)) == parse_update(raw)


@pytest.mark.parametrize("name", ["document_empty_thumbnail", "poll_old_server"])
def test_shapes_that_defeat_ptb_are_read(name: str) -> None:
    import json
    from pathlib import Path

    raw = json.loads(
        (Path(__file__).resolve().parents[1] / "data" / "telegram" / f"{name}.json").read_text()
    )
    update = parse_update(raw)
    assert update.message is not None
    assert update.message.kind == ("document" if name.startswith("document") else "poll")


@pytest.mark.parametrize(
    "raw",
    [
        {"update_id": 4, "message": {"message_id": 1, "chat": {"id": "x"}}},
        {"update_id": 4, "message": "halo"},
        {"update_id": "4", "message": {"message_id": 1, "chat": {"id": 1}}},
        {"update_id": 4, "callback_query": {"data": "1|a"}},
        [],
    ],
)
def test_an_update_without_its_essentials_is_unreadable(raw: Any) -> None:
    with pytest.raises(Unreadable):
        parse_update(raw)


def test_slash_commands_become_the_engines_words() -> None:
    assert command_text("/start K7PQ2MXR") == "K7PQ2MXR"
    assert command_text("/start") == "/start"
    assert command_text("/batal") == "batal"
    assert command_text("/menu@lingkaran_test_bot") == "menu"
    assert command_text("/lain") == "/lain"
    assert command_text("halo") == "halo"
