"""The service unit passes ``systemd-analyze verify`` (where systemd's tools exist)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ROOT

SHIPPED_EXEC = "/opt/homegym/venv/bin/homegym"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_unit_verifies_cleanly(tmp_path) -> None:
    text = (ROOT / "systemd" / "homegym.service").read_text()
    assert f"ExecStart={SHIPPED_EXEC} run --config /etc/homegym/config.yaml" in text
    # verify checks that ExecStart exists: point it at this install's command instead of /opt.
    unit = tmp_path / "homegym.service"
    unit.write_text(text.replace(SHIPPED_EXEC, str(Path(sys.executable).parent / "homegym")))
    r = subprocess.run(["systemd-analyze", "verify", str(unit)], capture_output=True, text=True)
    # A bad value is only a warning (exit 0), so any line about our unit fails the test too.
    complaints = [line for line in (r.stdout + r.stderr).splitlines() if "homegym.service" in line]
    assert r.returncode == 0 and not complaints, r.stdout + r.stderr
