"""One settings object, one clock, an installable package.

* the README's configuration table is the one ``lingkaran.settings`` generates;
* only ``lingkaran/settings.py`` reads the environment, only ``lingkaran_core/clock.py`` reads
  the real clock (production code; tests aside);
* a bad setting or a missing catalog stops the bot with one line, exit code 2;
* (slow) the built wheel, installed into a fresh venv and run from an empty directory, shows the
  English menu and builds and counts the 82,091-worker demo cohort.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import venv
from pathlib import Path

import pytest

from handlers import i18n
from lingkaran.settings import SETTINGS_TABLE, Settings, SettingsError, markdown_table

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ("lingkaran", "handlers", "lingkaran_core")


def _sources() -> list[Path]:
    files = [ROOT / "bot.py"]
    for package in PRODUCTION:
        files += sorted((ROOT / package).rglob("*.py"))
    return files


def _calls(path: Path) -> list[tuple[int, str]]:
    """Every ``os.environ`` / ``os.getenv`` / ``datetime.now`` / ``time.time`` use in a file."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
            name = f"{node.value.id}.{node.attr}"
            if name in (
                "os.environ",
                "os.getenv",
                "datetime.now",
                "datetime.utcnow",
                "datetime.today",
                "date.today",
                "time.time",
            ):
                found.append((node.lineno, name))
    return found


def test_only_the_settings_module_reads_the_environment() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{line} {name}"
        for p in _sources()
        for line, name in _calls(p)
        if name.startswith("os.") and p != ROOT / "lingkaran" / "settings.py"
    ]
    assert offenders == []


def test_only_the_clock_module_reads_the_real_clock() -> None:
    offenders = [
        f"{p.relative_to(ROOT)}:{line} {name}"
        for p in _sources()
        for line, name in _calls(p)
        if not name.startswith("os.") and p != ROOT / "lingkaran_core" / "clock.py"
    ]
    assert offenders == []


def test_the_readme_configuration_table_is_the_generated_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme.index("<!-- settings-table:start -->") + len("<!-- settings-table:start -->")
    end = readme.index("<!-- settings-table:end -->")
    assert readme[start:end].strip() == markdown_table()
    assert len(SETTINGS_TABLE) == len(Settings.model_fields)


def test_every_bad_setting_is_named_on_its_own_line() -> None:
    with pytest.raises(SettingsError) as caught:
        Settings.from_mapping(
            {
                "LINGKARAN_PORT": "eighty",
                "LINGKARAN_WA_TIER_SHARE": "1.5",
                "TELEGRAM_WEBHOOK_SECRET": "has spaces",
                "TELEGRAM_API_BASE_URL": "api.telegram.org",
            }
        )
    lines = str(caught.value).splitlines()
    assert [line.split(":")[0] for line in lines] == [
        "LINGKARAN_PORT",
        "TELEGRAM_API_BASE_URL",
        "TELEGRAM_WEBHOOK_SECRET",
        "LINGKARAN_WA_TIER_SHARE",
    ]
    assert "has spaces" not in str(caught.value)  # secrets are never echoed


def test_settings_accept_unlimited_tier_and_read_aliases() -> None:
    s = Settings.from_mapping({"LINGKARAN_WA_TIER": "unlimited", "USER": "rina"})
    assert s.wa_tier is None
    assert s.admin_actor == "rina"
    assert s.outbox_config().wa_tier is None
    assert Settings.from_mapping({"LINGKARAN_ADMIN_ACTOR": "opd", "USER": "x"}).admin_actor == "opd"


def _run(argv: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def _clean_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("LINGKARAN_", "TELEGRAM_", "WHATSAPP_", "VIRTUAL_ENV"))
    }
    env.update(extra)
    return env


def test_a_bad_setting_stops_with_one_line_and_code_2(tmp_path: Path) -> None:
    done = _run(
        [sys.executable, str(ROOT / "bot.py"), "serve", "--port", "0"],
        _clean_env(LINGKARAN_PORT="80a", LINGKARAN_DB=str(tmp_path / "x.db")),
        tmp_path,
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "LINGKARAN_PORT" in done.stderr
    assert "Traceback" not in done.stderr
    assert not (tmp_path / "x.db").exists()


def test_a_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("LINGKARAN_OUTBOX_MAX_ATTEMPTS=0\n", encoding="utf-8")
    done = _run([sys.executable, str(ROOT / "bot.py"), "settings"], _clean_env(), tmp_path)
    assert done.returncode == 2
    assert "LINGKARAN_OUTBOX_MAX_ATTEMPTS" in done.stderr


def test_a_missing_catalog_is_an_error_not_silent_indonesian(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(i18n, "_CATALOG_DIRS", (tmp_path,))
    with pytest.raises(RuntimeError, match=r"missing compiled catalog.*en"):
        i18n.check_catalogs()


@pytest.mark.slow
def test_the_wheel_installs_and_runs_from_an_empty_directory(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    built = _run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", str(dist), str(ROOT)],
        _clean_env(),
        tmp_path,
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = dist.glob("*.whl")
    import zipfile

    names = zipfile.ZipFile(wheel).namelist()
    assert "handlers/locales/en/LC_MESSAGES/messages.mo" in names
    assert any(n.startswith("lingkaran_core/storage/migrations/") for n in names)
    assert "lingkaran/channels/data/whatsapp_templates.json" in names
    assert not any(n.startswith(("channels/", "tests/")) for n in names)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    bin_dir = env_dir / "bin"
    installed = _run(
        [
            str(bin_dir / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-c",
            str(ROOT / "constraints.txt"),
            str(wheel),
        ],
        _clean_env(),
        tmp_path,
    )
    assert installed.returncode == 0, installed.stderr

    empty = tmp_path / "empty"
    empty.mkdir()
    env = _clean_env(PATH=f"{bin_dir}:{os.environ.get('PATH', '')}")
    chat = subprocess.run(
        [str(bin_dir / "lingkaran"), "chat", "--lang", "en", "--db", "c.db"],
        cwd=empty,
        env=env,
        input="menu\n",
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert chat.returncode == 0, chat.stderr
    assert "Main menu" in chat.stdout
    assert "Check coverage" in chat.stdout

    demo = _run([str(bin_dir / "lingkaran"), "admin", "demo-data", "--db", "x.db"], env, empty)
    assert demo.returncode == 0, demo.stderr
    stats = _run([str(bin_dir / "lingkaran"), "admin", "stats", "--db", "x.db"], env, empty)
    assert stats.returncode == 0, stats.stderr
    assert "82,091" in stats.stdout
    assert (empty / "x.db").exists()
