"""The deployment files agree with the code (no Docker engine runs here, so they are linted).

* the Dockerfile: two stages, a non-root user, the readiness probe, the port the settings use;
* compose: bot + backup + TLS proxy, secrets only from an env file, a health check on /readyz;
* Caddy and nginx expose exactly the webhook routes the channels serve, nothing else, and keep
  the verify token out of their logs;
* the systemd units verify with ``systemd-analyze`` (ExecStart pointed at a real executable);
* every variable in ``deploy/env.example`` is a real setting.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from dockerfile_parse import DockerfileParser

from lingkaran.channels.telegram import DEFAULT_WEBHOOK_PATH
from lingkaran.channels.whatsapp import WEBHOOK_PATH
from lingkaran.settings import SETTINGS_TABLE, Settings

ROOT = Path(__file__).resolve().parents[1]
DEPLOY = ROOT / "deploy"
WEBHOOKS = {DEFAULT_WEBHOOK_PATH, WEBHOOK_PATH}


def test_the_image_runs_as_an_unprivileged_user_and_probes_readiness() -> None:
    parser = DockerfileParser(path=str(ROOT / "Dockerfile"))
    instructions = [(i["instruction"], i["value"]) for i in parser.structure]
    stages = [v for k, v in instructions if k == "FROM"]
    assert len(stages) == 2
    assert stages[0].endswith("AS build")
    users = [v for k, v in instructions if k == "USER"]
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")
    health = next(v for k, v in instructions if k == "HEALTHCHECK")
    assert "/readyz" in health
    exposed = next(v for k, v in instructions if k == "EXPOSE")
    assert exposed == str(Settings.model_fields["port"].default)
    assert next(v for k, v in instructions if k == "ENTRYPOINT") == '["lingkaran"]'
    copied = " ".join(v for k, v in instructions if k == "COPY")
    for package in ("lingkaran", "handlers", "lingkaran_core", "locales"):
        assert package in copied
    assert ".env" in (ROOT / ".dockerignore").read_text().split()


def test_compose_runs_the_bot_a_backup_and_a_tls_proxy() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"bot", "backup", "proxy"}
    bot = services["bot"]
    assert "/readyz" in " ".join(bot["healthcheck"]["test"])
    assert bot["env_file"] == ".env"
    assert "ports" not in bot  # only the proxy faces the internet
    assert services["proxy"]["ports"] == ["80:80", "443:443"]
    assert "admin backup" in " ".join(services["backup"]["command"])
    for name, service in services.items():
        if name != "proxy":
            assert service.get("read_only") is True, name
            assert service.get("cap_drop") == ["ALL"], name
    for volume in ("bot-data", "bot-backups", "caddy-data"):
        assert volume in compose["volumes"]


def test_compose_with_postgresql_runs_two_instances_on_one_database() -> None:
    compose = yaml.safe_load((DEPLOY / "compose.postgres.yaml").read_text())
    services = compose["services"]
    assert set(services) == {"postgres", "migrate", "bot-a", "bot-b", "backup", "proxy"}
    urls = {services[n]["environment"]["LINGKARAN_DB"] for n in ("bot-a", "bot-b", "backup")}
    assert len(urls) == 1
    (url,) = urls
    assert url.startswith("postgresql://")
    assert Settings.from_mapping({"LINGKARAN_DB": url}).db_is_postgres
    assert ":" not in url.split("@")[0].removeprefix("postgresql://"), "no password in the URL"
    for name in ("bot-a", "bot-b"):
        bot = services[name]
        assert "ports" not in bot
        assert "/readyz" in " ".join(bot["healthcheck"]["test"])
        assert "bot-files:/var/lib/lingkaran/files" in bot["volumes"]
        assert bot["environment"]["LINGKARAN_FILES_DIR"] == "/var/lib/lingkaran/files"
        assert bot["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert bot["read_only"] is True
    assert services["migrate"]["command"] == ["admin", "init-db"]
    assert ".pgdump" in " ".join(services["backup"]["command"])
    caddy = (DEPLOY / "Caddyfile.instances").read_text()
    matcher = re.search(r"@webhooks path (.+)", caddy)
    assert matcher is not None
    assert set(matcher.group(1).split()) == WEBHOOKS
    assert "reverse_proxy bot-a:8080 bot-b:8080" in caddy
    assert "health_uri /readyz" in caddy
    assert "delete hub.verify_token" in caddy
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "postgresql-client" in dockerfile  # pg_dump for `admin backup`


def test_the_proxies_expose_exactly_the_webhook_routes() -> None:
    caddy = (DEPLOY / "Caddyfile").read_text()
    matcher = re.search(r"@webhooks path (.+)", caddy)
    assert matcher is not None
    assert set(matcher.group(1).split()) == WEBHOOKS
    assert "delete hub.verify_token" in caddy
    nginx = (DEPLOY / "nginx.conf").read_text()
    assert set(re.findall(r"location = (\S+)", nginx)) == WEBHOOKS
    assert "$request_uri" not in nginx.split("log_format", 1)[1].split(";", 1)[0]
    assert "return 404" in nginx


def test_every_variable_of_the_env_example_is_a_setting() -> None:
    known = {var for var, _default, _meaning in SETTINGS_TABLE} | {"LINGKARAN_DOMAIN"}
    names = [
        line.split("=", 1)[0]
        for line in (DEPLOY / "env.example").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert names
    assert set(names) <= known


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="needs systemd-analyze")
def test_the_systemd_units_verify(tmp_path: Path) -> None:
    for unit in ("lingkaran.service", "lingkaran-backup.service", "lingkaran-backup.timer"):
        text = (DEPLOY / unit).read_text().replace("/opt/lingkaran/venv/bin/lingkaran", "/bin/true")
        (tmp_path / unit).write_text(text)
    done = subprocess.run(
        ["systemd-analyze", "verify", *(str(p) for p in sorted(tmp_path.iterdir()))],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    problems = [
        line
        for line in (done.stdout + done.stderr).splitlines()
        if "lingkaran" in line and "Documentation" not in line
    ]
    assert problems == []
