"""Transcripts for the information flows: benefits (with its submenus) and about the programme."""

from __future__ import annotations

import pytest
from conftest import ChatDriver

MAX_CHARS = 600
MAX_LABEL = 20
MAX_DESCRIPTION = 72


def assert_short(chat: ChatDriver) -> None:
    """Every message ≤ 600 chars; every button fits WhatsApp's limits."""
    for reply in chat.replies:
        assert len(reply.text) <= MAX_CHARS, f"{len(reply.text)} chars:\n{reply.text}"
        assert len(reply.choices) <= 10
        for c in reply.choices:
            assert len(c.label) <= MAX_LABEL, c.label
            assert c.description is None or len(c.description) <= MAX_DESCRIPTION, c.description


async def open_benefits(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Manfaat & santunan")
    chat.expect("Pilih yang ingin diketahui")
    chat.expect_choices("Kecelakaan kerja", "Kematian", "Beasiswa anak", "Dokumen klaim")
    chat.expect_choices("Kembali ke menu")
    assert_short(chat)


async def test_benefits_jkm_gives_the_three_amounts_and_the_active_membership_rule(
    chat: ChatDriver,
) -> None:
    await open_benefits(chat)
    await chat.tap("Kematian")
    chat.expect(
        "Rp42.000.000",
        "Rp20.000.000 santunan sekaligus",
        "Rp12.000.000 santunan berkala (dibayar sekaligus)",
        "Rp10.000.000 biaya pemakaman",
        "kepesertaan aktif pada tanggal meninggal",
    )
    chat.expect("Ada lagi yang ingin")
    chat.expect_choices("Kecelakaan kerja", "Kematian")
    assert_short(chat)


async def test_benefits_jkk_submenu_explains_treatment_income_death_and_reporting(
    chat: ChatDriver,
) -> None:
    await open_benefits(chat)
    await chat.tap("Kecelakaan kerja")
    chat.expect("JKK (jaminan kecelakaan kerja)")
    chat.expect_choices("Berobat", "Tidak bisa bekerja", "Meninggal saat kerja", "Cara melapor")
    assert_short(chat)

    await chat.tap("Berobat")
    chat.expect("tanpa batas biaya", "Rp5.000.000", "Rp2.000.000", "Rp10.000.000", "Rp20.000.000")
    chat.expect("kecelakaan kerja peserta BPJS Ketenagakerjaan")
    assert_short(chat)

    await chat.tap("Tidak bisa bekerja")
    chat.expect("100% selama 12 bulan pertama, lalu 50% sampai sembuh", "Rp56.000.000")
    assert_short(chat)

    await chat.tap("Meninggal saat kerja")
    chat.expect("48 kali penghasilan", "paling sedikit Rp20.000.000", "Rp10.000.000")
    chat.expect("Rp12.000.000", "Rp70.000.000")
    assert_short(chat)

    await chat.tap("Cara melapor")
    chat.expect("2×24 jam", "Terlambat pun tetap laporkan")
    chat.expect_not("WAJIB", "hangus")

    await chat.tap("Kembali")
    chat.expect_choices("Kecelakaan kerja", "Kematian", "Beasiswa anak")


async def test_benefits_scholarship_lists_tiers_and_conditions(chat: ChatDriver) -> None:
    await open_benefits(chat)
    await chat.tap("Beasiswa anak")
    chat.expect(
        "TK: Rp1.500.000",
        "SD: Rp1.500.000",
        "SMP: Rp2.000.000",
        "SMA/SMK: Rp3.000.000",
        "Rp12.000.000",
        "Paling banyak 2 anak",
        "umur 23 tahun",
        "paling sedikit 3 tahun",
        "tidak ada syarat lama ikut",
        "setiap tahun ajaran",
    )
    chat.expect_not("19 tahun")
    assert_short(chat)


@pytest.mark.parametrize(
    ("kind", "fragments"),
    [
        (
            "Kecelakaan kerja",
            (
                "tahap I saat melapor",
                "KTP peserta",
                "Cerita kejadian + KTP 2 saksi",
                "lalu lintas, tambah: Surat polisi / Jasa Raharja",
                "Tahap II, setelah dokter menyatakan",
                "Surat dokter (KK3/3b), Buku tabungan",
                "kuitansi hanya jika Bapak/Ibu membayar sendiri",
                "NPWP",
            ),
        ),
        (
            "Kematian",
            (
                "Akta kematian",
                "Surat keterangan ahli waris",
                "suami/istri, tambah: Buku nikah",
                "anak, tambah: Akta kelahiran anak",
                "Rp50.000.000",
            ),
        ),
        ("Beasiswa anak", ("Formulir beasiswa", "Rapor / transkrip", "KTP wali", "setiap tahun")),
    ],
)
async def test_benefits_documents_per_claim_type_come_from_the_checklist(
    chat: ChatDriver, kind: str, fragments: tuple[str, ...]
) -> None:
    await open_benefits(chat)
    await chat.tap("Dokumen klaim")
    chat.expect("Dokumen untuk klaim apa?")
    await chat.tap(kind)
    chat.expect(*fragments)
    chat.expect_choices("Kecelakaan kerja", "Kematian", "Beasiswa anak", "Kembali")
    assert_short(chat)


async def test_benefits_back_to_menu_shows_the_main_menu(chat: ChatDriver) -> None:
    await open_benefits(chat)
    await chat.tap("Kembali ke menu")
    chat.expect("Menu utama")
    chat.expect_choices("Cek kepesertaan")


async def test_benefits_accepts_a_typed_number(chat: ChatDriver) -> None:
    await open_benefits(chat)
    await chat.send("2")
    chat.expect("Rp42.000.000")


async def test_about_explains_the_programme_and_offers_topics(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Tentang program")
    chat.expect("Lingkaran Cinta", "Pemkab Jember", "SK Bupati", "82.000", "JKK", "JKM")
    # The regency funds budget periods, not "since December 2025" (DOMAIN.md §9).
    chat.expect_not("Sejak Desember 2025")
    chat.expect_not("pekerja rentan", "miskin", "desil", "Anda")
    chat.expect_choices("Layanan resmi", "Berobat jika celaka", "Lanjut bayar sendiri")
    chat.expect_choices("Awas penipuan", "Kembali ke menu")
    assert_short(chat)


@pytest.mark.parametrize(
    ("topic", "fragments"),
    [
        ("Layanan resmi", ("Kantor Cabang Jember", "175", "bpjsketenagakerjaan.go.id", "gratis")),
        (
            "Berobat jika celaka",
            ("PLKK", "ini kecelakaan kerja peserta BPJS Ketenagakerjaan", "2×24 jam"),
        ),
        ("Lanjut bayar sendiri", ("Rp16.800 per bulan", "bpjsketenagakerjaan.go.id/bpu", "BPU")),
        ("Awas penipuan", ("GRATIS", "uang", "PIN", "OTP", "kata sandi", "dibayar Pemkab Jember")),
    ],
)
async def test_about_topics(chat: ChatDriver, topic: str, fragments: tuple[str, ...]) -> None:
    await chat.send("menu")
    await chat.tap("Tentang program")
    await chat.tap(topic)
    chat.expect(*fragments)
    chat.expect("Ada lagi yang ingin")
    assert_short(chat)


async def test_about_back_to_menu(chat: ChatDriver) -> None:
    await chat.send("menu")
    await chat.tap("Tentang program")
    await chat.tap("Awas penipuan")
    await chat.tap("Kembali ke menu")
    chat.expect("Menu utama")
