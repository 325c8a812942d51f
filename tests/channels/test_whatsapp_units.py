"""WhatsApp adapter units: parsing at the edge, signatures, rendering limits, templates, errors."""

from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import wa_payloads as wp
from fake_graph import validate_message

from handlers.engine import Choice, Reply
from lingkaran.channels.base import ChannelAuthFailed, HoldMessage, RetryLater, Undeliverable
from lingkaran.channels.whatsapp import (
    TemplateBook,
    TemplateParamsMissing,
    WhatsAppConfig,
    classify_error,
    decode_choice_id,
    encode_choice_id,
    parse_webhook,
    render_reply,
    sign,
    smart_truncate,
    sniff_mime,
    split_text,
    verify_signature,
)
from lingkaran.settings import Settings
from lingkaran_core.clock import FixedClock

SECRET = "app-secret"


def one(msg: dict) -> object:
    batch = parse_webhook(wp.envelope(wp.value(messages=[msg])), phone_number_id=wp.PNID)
    assert len(batch.messages) == 1
    return batch.messages[0]


# -- signature -----------------------------------------------------------------------------


def test_a_signature_made_with_the_app_secret_verifies() -> None:
    body = wp.encode(wp.envelope(wp.value(messages=[wp.text("halo")])))
    assert sign(body, SECRET) == wp.sign(body, SECRET)
    assert verify_signature(body, wp.sign(body, SECRET), SECRET)


@pytest.mark.parametrize(
    "header",
    [None, "", "sha256=", "sha1=abc", "sha256=" + "0" * 64, wp.sign(b"other body", SECRET)],
)
def test_a_missing_or_forged_signature_is_refused(header: str | None) -> None:
    body = wp.encode(wp.envelope(wp.value(messages=[wp.text("halo")])))
    assert not verify_signature(body, header, SECRET)


def test_a_signature_over_a_reserialised_body_does_not_verify() -> None:
    # The HMAC covers the raw bytes: re-encoding the JSON (spaces) breaks it, as with Meta.
    payload = wp.envelope(wp.value(messages=[wp.text("halo")]))
    raw = wp.encode(payload)
    assert not verify_signature(raw.replace(b",", b", "), wp.sign(raw, SECRET), SECRET)


# -- parsing -------------------------------------------------------------------------------


def test_a_text_message_is_parsed_with_sender_time_and_profile_name() -> None:
    m = one(wp.text("halo", ts=wp.T0 + 5, mid="wamid.A"))
    assert (m.kind, m.text, m.user_ref, m.id) == ("text", "halo", "6281234567890", "wamid.A")
    assert m.received_at == datetime.fromtimestamp(wp.T0 + 5, UTC)
    assert m.display_name == "Ani"


def test_button_and_list_replies_carry_the_step_token_and_choice() -> None:
    b = one(wp.button_reply("7|yes", "Ya", context_id="wamid.q"))
    assert (b.kind, b.step_token, b.choice_id, b.context_id) == ("choice", "7", "yes", "wamid.q")
    row = one(wp.list_reply("3|d:35.09.08.2004", "Ya, benar"))
    assert (row.step_token, row.choice_id) == ("3", "d:35.09.08.2004")


def test_a_foreign_button_id_is_a_choice_without_a_token() -> None:
    m = one(wp.button_reply("pay_yes", "Ya"))
    assert (m.step_token, m.choice_id) == (None, "pay_yes")


def test_a_template_quick_reply_becomes_typed_text_unless_it_carries_our_id() -> None:
    assert one(wp.template_button("Tanya petugas", "Tanya petugas")).text == "Tanya petugas"
    m = one(wp.template_button("Menu", "cmd:menu"))
    assert (m.kind, m.choice_id) == ("choice", "cmd:menu")


def test_images_and_documents_keep_their_media_id_and_caption() -> None:
    img = one(wp.image("MID1", caption="ktp suami"))
    assert (img.kind, img.media_id, img.media_kind, img.text) == (
        "media",
        "MID1",
        "photo",
        "ktp suami",
    )
    doc = one(wp.document("MID2", filename="surat.pdf"))
    assert (doc.media_kind, doc.filename) == ("document", "surat.pdf")


def test_voice_location_and_contacts_are_parsed() -> None:
    assert one(wp.audio("MID3")).kind == "voice"
    loc = one(wp.location(-8.17, 113.7))
    assert loc.location == (-8.17, 113.7)
    assert one(wp.contacts("+62 812-3456-7890")).contact_phone == "+62 812-3456-7890"


@pytest.mark.parametrize(
    ("msg", "kind"),
    [
        (wp.sticker(), "sticker"),
        (
            {"from": "62811", "id": "wamid.V", "timestamp": "1", "type": "video", "video": {}},
            "video",
        ),
        (
            {"from": "62811", "id": "wamid.U", "timestamp": "1", "type": "unsupported"},
            "unsupported",
        ),
        ({"from": "62811", "id": "wamid.W", "timestamp": "1", "type": "brand_new"}, "brand_new"),
    ],
)
def test_other_message_types_are_unsupported(msg: dict, kind: str) -> None:
    m = one(msg)
    assert (m.kind, m.unsupported) == ("unsupported", kind)


def test_a_reaction_is_its_own_kind_never_an_answer() -> None:
    m = one(wp.reaction())
    assert (m.kind, m.text, m.context_id) == ("reaction", "👍", "wamid.out1")


def test_a_batch_keeps_every_entry_change_and_message_in_order() -> None:
    body = wp.envelope(
        wp.value(messages=[wp.text("1", mid="a"), wp.text("2", mid="b")]),
        wp.value(messages=[wp.text("3", sender="6289", mid="c")], wa_id="6289"),
        wp.value(statuses=[wp.status("wamid.9", "read")]),
        entries=3,
    )
    batch = parse_webhook(body, phone_number_id=wp.PNID)
    assert [m.id for m in batch.messages] == ["a", "b", "c"]
    assert [s.status for s in batch.statuses] == ["read"]


def test_a_failed_status_without_pricing_or_conversation_is_parsed() -> None:
    body = wp.envelope(wp.value(statuses=[wp.status("wamid.1", "failed", error_code=131047)]))
    st = parse_webhook(body).statuses[0]
    assert (st.status, st.error_code, st.pricing_category, st.conversation_id) == (
        "failed",
        131047,
        None,
        None,
    )


def test_a_sender_id_that_is_not_a_phone_number_is_kept_as_is() -> None:
    m = one(wp.text("halo", sender="ID.1234567890abcdef"))
    assert m.user_ref == "ID.1234567890abcdef"


def test_malformed_parts_and_other_numbers_are_skipped_without_raising() -> None:
    body = wp.envelope(
        wp.value(messages=[{"type": "text"}, "junk", wp.text("ok", mid="good")]),
        wp.value(messages=[wp.text("not ours")], pnid="999"),
    )
    batch = parse_webhook(body, phone_number_id=wp.PNID)
    assert [m.id for m in batch.messages] == ["good"]
    assert batch.ignored == 3
    assert parse_webhook({"object": "page"}).messages == ()
    assert parse_webhook([1, 2]).messages == ()


# -- choice ids ----------------------------------------------------------------------------


def test_choice_ids_round_trip_with_and_without_a_token() -> None:
    assert decode_choice_id(encode_choice_id("12", "a|b")) == ("12", "a|b")
    assert decode_choice_id(encode_choice_id(None, "menu")) == (None, "menu")


# -- rendering -----------------------------------------------------------------------------


def reply(n: int, label: str = "Pilihan", text: str = "Silakan pilih.") -> Reply:
    return Reply(
        text=text,
        choices=tuple(Choice(id=f"c{i}", label=f"{label} {i}") for i in range(1, n + 1)),
        step_token="4",
    )


def envelope_ok(messages: list[dict]) -> None:
    for m in messages:
        body = {"messaging_product": "whatsapp", "to": "62811", **m}
        assert validate_message(body) is None, (validate_message(body), m)


def test_up_to_three_short_choices_become_reply_buttons_with_tokened_ids() -> None:
    out = render_reply(
        Reply(text="Sudah benar?", choices=(Choice(id="send", label="Kirim"),), step_token="13")
    )
    assert out[0]["interactive"]["type"] == "button"
    assert out[0]["interactive"]["action"]["buttons"][0]["reply"] == {
        "id": "13|send",
        "title": "Kirim",
    }
    envelope_ok(out)


def test_a_label_over_twenty_characters_never_becomes_a_button() -> None:
    r = Reply(
        text="Menu", choices=(Choice(id="jkk", label="Lapor kecelakaan kerja"),), step_token="1"
    )
    out = render_reply(r)
    assert out[0]["interactive"]["type"] == "list"
    row = out[0]["interactive"]["action"]["sections"][0]["rows"][0]
    assert row["title"] == "Lapor kecelakaan kerja"
    envelope_ok(out)


def test_four_to_ten_choices_become_a_list_with_rows_cut_to_size() -> None:
    long = Reply(
        text="Apa pekerjaan utama Bapak/Ibu?",
        choices=tuple(
            Choice(id=f"s{i}", label=f"Pekerja sektor informal nomor {i}", description="x" * 100)
            for i in range(10)
        ),
        step_token="7",
    )
    out = render_reply(long, list_button="Pilih pekerjaan yang paling cocok")
    rows = out[0]["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == 10
    assert all(len(r["title"]) <= 24 and len(r["description"]) <= 72 for r in rows)
    assert rows[0]["title"].endswith("…")
    envelope_ok(out)


def test_more_than_ten_choices_become_numbered_text() -> None:
    out = render_reply(reply(12))
    assert [m["type"] for m in out] == ["text"]
    assert "12. Pilihan 12" in out[0]["text"]["body"]


def test_a_long_body_with_buttons_sends_the_overflow_as_text_first() -> None:
    text = "\n".join(f"Baris {i}: " + "kata " * 20 for i in range(40))
    out = render_reply(reply(2, text=text))
    assert out[-1]["type"] == "interactive"
    assert all(m["type"] == "text" for m in out[:-1])
    assert out[:-1]
    envelope_ok(out)
    joined = "\n".join(
        m["text"]["body"] if m["type"] == "text" else m["interactive"]["body"]["text"] for m in out
    )
    assert joined.split() == text.split()


def test_a_text_over_4096_characters_is_split_on_lines() -> None:
    text = "\n".join("x" * 100 for _ in range(100))
    parts = split_text(text)
    assert len(parts) == 3
    assert all(len(p) <= 4096 for p in parts)
    assert "\n".join(parts) == text
    assert all(len(p) <= 50 for p in split_text("kata " * 100, 50))


def test_smart_truncate_cuts_at_a_word_boundary() -> None:
    assert smart_truncate("Lapor kecelakaan kerja", 20) == "Lapor kecelakaan…"
    assert smart_truncate("Pendek", 20) == "Pendek"
    assert len(smart_truncate("a" * 50, 24)) == 24


def test_duplicate_labels_fall_back_to_a_list() -> None:
    r = Reply(text="?", choices=(Choice(id="a", label="Ya"), Choice(id="b", label="Ya")))
    assert render_reply(r)[0]["interactive"]["type"] == "list"


# -- templates -----------------------------------------------------------------------------


def test_every_template_is_valid_and_within_meta_limits() -> None:
    book = TemplateBook.load()
    assert {t.name for t in book.templates.values()} >= {
        "lc_dokumen_kurang",
        "lc_iuran_belum_tercatat",
        "lc_laporan_perlu_dicek",
        "lc_status_klaim",
        "lc_terlindungi_pemkab",
        "lc_balasan_petugas",
        "lc_beasiswa_tahunan",
        "lc_perlindungan_berakhir",
        "lc_ringkasan_pendamping",
    }
    for t in book.templates.values():
        assert set(t.languages) >= {"id", "en"}
        for lang in t.languages.values():
            assert len(lang.text) <= 300
            assert "Anda" not in lang.text
            for n in range(1, len(t.params) + 1):
                assert f"{{{{{n}}}}}" in lang.text


def test_a_template_body_is_filled_from_named_params_and_formatted() -> None:
    book = TemplateBook.load()
    t = book.for_key("reminder.missing_docs")
    assert t is not None
    payload = t.payload(
        "62811",
        {
            "name": "Sutrisno",
            "ref": "LC-2026-000123",
            "missing": ["surat_dokter", "buku_tabungan"],
        },
        "id",
    )
    values = [p["text"] for p in payload["template"]["components"][0]["parameters"]]
    assert values == ["Sutrisno", "LC-2026-000123", "Surat dokter (KK3/3b), Buku tabungan"]
    assert payload["template"]["language"] == {"code": "id"}
    assert validate_message(payload) is None


def test_template_params_use_labels_dates_and_defaults_and_never_contain_newlines() -> None:
    book = TemplateBook.load()
    status = book.for_key("claim.status_changed")
    assert status is not None
    values = status.body_values(
        {"ref": "LC-1", "status": "in_review", "note": "baris\n\nbaru"}, "id"
    )
    assert values == ["LC-1", "sedang diperiksa petugas", "baris baru"]
    assert status.body_values({"ref": "LC-1", "status": "paid"}, "en")[2] == "none"
    ending = book.for_key("reminder.coverage_ending")
    assert ending is not None
    assert ending.body_values({"name": "Ani", "until": "2026-12-31"}, "id")[1] == "31 Desember 2026"
    with pytest.raises(TemplateParamsMissing):
        status.body_values({"status": "paid"}, "id")


# -- errors --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("http", "code", "kind"),
    [
        (400, 130429, RetryLater),
        (400, 131056, RetryLater),
        (400, 80007, RetryLater),
        (429, None, RetryLater),
        (500, None, RetryLater),
        (503, 1, RetryLater),
        (400, 131026, Undeliverable),
        (400, 131051, Undeliverable),
        (401, 190, ChannelAuthFailed),  # a refused token pauses the channel
        (400, 132001, HoldMessage),
        (400, 131047, HoldMessage),
    ],
)
def test_graph_errors_map_to_what_the_dispatcher_should_do(
    http: int, code: int | None, kind: type
) -> None:
    err = classify_error(http, None if code is None else {"code": code, "message": "x"})
    assert type(err) is kind


def test_file_types_are_sniffed_from_their_bytes() -> None:
    assert sniff_mime(b"\xff\xd8\xff\xe0rest") == "image/jpeg"
    assert sniff_mime(b"%PDF-1.7") == "application/pdf"
    assert sniff_mime(b"RIFF1234WEBPVP8") == "image/webp"
    assert sniff_mime(b"MZ\x90\x00") is None


# -- configuration -------------------------------------------------------------------------


def test_config_names_every_missing_variable() -> None:
    from lingkaran.channels.whatsapp import ConfigError

    with pytest.raises(ConfigError, match="WHATSAPP_APP_SECRET, WHATSAPP_VERIFY_TOKEN"):
        WhatsAppConfig.from_settings(
            Settings.from_mapping({"WHATSAPP_ACCESS_TOKEN": "t", "WHATSAPP_PHONE_NUMBER_ID": "1"})
        )
    cfg = WhatsAppConfig.from_settings(
        Settings.from_mapping(
            {
                "WHATSAPP_APP_SECRET": "s",
                "WHATSAPP_VERIFY_TOKEN": "v",
                "WHATSAPP_ACCESS_TOKEN": "t",
                "WHATSAPP_PHONE_NUMBER_ID": "1",
                "WHATSAPP_GRAPH_API_BASE_URL": "http://127.0.0.1:9/",
            }
        )
    )
    assert cfg.api_base == "http://127.0.0.1:9/v21.0"


def test_main_exits_2_with_one_line_when_settings_are_missing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from lingkaran import cli

    monkeypatch.chdir(tmp_path)  # the default database folder is relative: not the checkout's

    for key in list(os.environ):
        if key.startswith("WHATSAPP_"):
            monkeypatch.delenv(key)
    assert (
        cli.main(
            ["whatsapp", "--port", "0"], clock=FixedClock(datetime(2026, 11, 25, 3, tzinfo=UTC))
        )
        == 2
    )
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "WHATSAPP_ACCESS_TOKEN" in err


def test_window_is_open_for_24_hours_after_the_users_last_message() -> None:
    from lingkaran.channels.whatsapp import WhatsAppSender

    now = datetime(2026, 11, 25, 3, tzinfo=UTC)
    cfg = WhatsAppConfig(app_secret="s", verify_token="v", access_token="t", phone_number_id="1")
    sender = WhatsAppSender(cfg, clock=FixedClock(now))
    assert sender.window_open(now - timedelta(hours=23))
    assert not sender.window_open(now - timedelta(hours=24, minutes=1))
    assert not sender.window_open(None)


def test_real_outbox_keys_map_to_templates_and_facilitator_rows_do_not() -> None:
    book = TemplateBook.load()
    for key in (
        "reminder.missing_docs",
        "reminder.arrears",
        "claim.status_changed",
        "notice.protected",
        "ticket.reply",
        "reminder.scholarship",
        "reminder.coverage_ending",
        "digest.facilitator",
    ):
        assert book.for_key(key) is not None, key
    assert book.for_key("reminder.missing_docs", {"for": "facilitator"}) is None
    scholarship = book.for_key("reminder.scholarship")
    assert scholarship is not None
    assert scholarship.body_values({"school_year": 2026, "refs": ["LC-1"]}, "id")[1] == "2026/2027"
