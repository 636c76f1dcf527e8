"""The container and service files: what can be checked without a Docker engine."""

from __future__ import annotations

import re

from tests.support.paths import REPO_ROOT

ROOT = REPO_ROOT


def test_dockerfile_installs_the_package_as_non_root_with_a_healthcheck() -> None:
    text = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert text.startswith("#")
    assert "FROM python:3.11-slim" in text
    for folder in ("crawler", "checks", "storage"):
        assert f"COPY {folder} ./{folder}" in text
        assert (ROOT / folder / "__init__.py").is_file()
    assert re.search(r"^USER govmon$", text, re.MULTILINE)
    assert 'VOLUME ["/data"]' in text
    assert "HEALTHCHECK" in text
    assert "/healthz" in text
    assert 'CMD ["daemon", "/etc/govmon/govmon.toml", "--db", "/data/govmon.db"]' in text


def test_systemd_unit_runs_the_daemon_and_stops_it_with_sigterm() -> None:
    text = (ROOT / "deploy" / "govmon.service").read_text(encoding="utf-8")
    assert re.search(r"^ExecStart=\S+/govmon daemon ", text, re.MULTILINE)
    assert "KillSignal=SIGTERM" in text
    assert "User=govmon" in text
