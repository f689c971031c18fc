"""The service unit (``systemd-analyze verify`` where systemd's tools exist) and its scripted install."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT, one_line_error, run_cli

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


def _keys() -> dict[str, list[str]]:
    keys: dict[str, list[str]] = {}
    for line in (ROOT / "systemd" / "homegym.service").read_text().splitlines():
        if "=" in line and not line.startswith("#"):
            k, v = line.split("=", 1)
            keys.setdefault(k, []).append(v)
    return keys


def test_unit_is_a_notify_service_with_watchdog_reload_and_hardening() -> None:
    keys = _keys()
    assert keys["Type"] == ["notify"] and keys["WatchdogSec"] and keys["Restart"] == ["on-failure"]
    # a reload checks the file as run would first, so `systemctl reload` fails on a file the daemon would refuse
    assert keys["ExecReload"] == [f"{SHIPPED_EXEC} check-config /etc/homegym/config.yaml", "/bin/kill -HUP $MAINPID"]
    assert keys["StartLimitBurst"]
    assert "video" in keys["SupplementaryGroups"][0] and "render" in keys["SupplementaryGroups"][0]
    assert keys["LoadCredential"] == ["mqtt-password:/etc/homegym/mqtt-password"]
    for k in ("DynamicUser", "NoNewPrivileges", "ProtectHome", "PrivateTmp", "ProtectKernelTunables", "ProtectKernelModules"):
        assert keys[k] == ["yes"], k
    assert keys["ProtectSystem"] == ["strict"] and keys["StateDirectory"] == keys["ConfigurationDirectory"] == ["homegym"]
    # OpenVINO generates code at run time; the camera and the NPU are devices.
    assert "MemoryDenyWriteExecute" not in keys and "PrivateDevices" not in keys


def test_install_refuses_a_folder_that_is_not_the_project(tmp_path) -> None:
    r = run_cli("install-service", "--root", str(tmp_path / "stage"), "--source", str(tmp_path))
    assert "is not the project folder" in one_line_error(r)
    assert not (tmp_path / "stage").exists()


def assert_reference_with_service_overrides(config: Path) -> None:
    """The config install-service writes is the reference but for the documented overrides, each with its reason."""
    from homegym.daemon.config import settings as config_mod
    from homegym.daemon.service.install import SERVICE_OVERRIDES

    text = config.read_text()
    written, reference = config_mod.load(config).model_dump(), config_mod.Config().model_dump()
    changed = {(sec, key) for sec in reference for key in reference[sec] if written[sec][key] != reference[sec][key]}
    assert changed == set(SERVICE_OVERRIDES)
    for (sec, key), (value, why) in SERVICE_OVERRIDES.items():
        assert written[sec][key] == value and why in text
    assert written["live"]["host"] == "127.0.0.1", "the page is on this box only until the user says otherwise"
    import difflib

    diff = [d for d in difflib.ndiff((ROOT / "config.yaml").read_text().splitlines(), text.splitlines()) if d[:2] in ("+ ", "- ")]
    added, removed = [d for d in diff if d[0] == "+"], [d for d in diff if d[0] == "-"]
    assert len(added) == 2 * len(SERVICE_OVERRIDES) and len(removed) == len(SERVICE_OVERRIDES), diff  # a reason and a value each


def test_the_service_config_is_the_reference_plus_its_documented_overrides(tmp_path) -> None:
    from homegym.daemon.config.reference import render_yaml
    from homegym.daemon.service.install import SERVICE_OVERRIDES

    path = tmp_path / "config.yaml"
    path.write_text(render_yaml(SERVICE_OVERRIDES))
    assert_reference_with_service_overrides(path)
    assert "`state.dir`" in (ROOT / "docs" / "service.md").read_text() and "`live.enabled`" in (ROOT / "docs" / "service.md").read_text()


@pytest.mark.slow
def test_install_and_uninstall_staged(tmp_path) -> None:
    """The whole install into a staging root: a real venv with the package pip-installed, config, credential, unit."""
    stage = tmp_path / "stage"
    r = run_cli("install-service", "--root", str(stage), "--no-start")
    assert r.returncode == 0, r.stderr[-2000:]
    homegym = stage / "opt/homegym/venv/bin/homegym"
    config = stage / "etc/homegym/config.yaml"
    unit = stage / "etc/systemd/system/homegym.service"
    assert_reference_with_service_overrides(config)
    assert (stage / "etc/homegym/mqtt-password").stat().st_mode & 0o777 == 0o600
    check = subprocess.run([str(homegym), "check-config", "--syntax-only", str(config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    assert f"ExecStart={SHIPPED_EXEC} run --config /etc/homegym/config.yaml" in unit.read_text()
    no_tf = subprocess.run([str(stage / "opt/homegym/venv/bin/python"), "-c", "import tensorflow"], capture_output=True)
    assert no_tf.returncode != 0, "the service's venv has no TensorFlow"
    if shutil.which("systemd-analyze"):
        staged = tmp_path / "homegym.service"
        staged.write_text(unit.read_text().replace(SHIPPED_EXEC, str(homegym)))
        v = subprocess.run(["systemd-analyze", "verify", str(staged)], capture_output=True, text=True)
        assert v.returncode == 0 and "homegym.service" not in v.stdout + v.stderr, v.stdout + v.stderr

    config.write_text(config.read_text() + "\n# my edit\n")  # an upgrade keeps the user's config
    r = run_cli("install-service", "--root", str(stage), "--no-start")
    assert r.returncode == 0 and "kept your" in r.stdout and config.read_text().endswith("# my edit\n")

    r = run_cli("uninstall-service", "--root", str(stage))
    assert r.returncode == 0, r.stderr
    assert not unit.exists() and not (stage / "opt/homegym").exists() and config.exists()
    r = run_cli("uninstall-service", "--root", str(stage), "--purge")
    assert r.returncode == 0 and not (stage / "etc/homegym").exists()


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="systemd-analyze is not installed")
def test_the_units_exposure_is_low() -> None:
    """systemd-analyze security scores the unit offline: at most 1.7, as it shipped (it was 5.5 MEDIUM before the hardening)."""
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", str(ROOT / "systemd" / "homegym.service")],
                       capture_output=True, text=True)
    match = re.search(r"Overall exposure level for homegym.service: ([\d.]+)", r.stdout + r.stderr)
    if match is None and "--offline" in r.stderr:
        pytest.skip("this systemd-analyze cannot score a unit offline")
    assert match is not None, r.stdout[-2000:] + r.stderr[-2000:]
    assert float(match.group(1)) <= 1.7, r.stdout[-3000:]


def test_the_system_call_filter_admits_every_call_the_daemon_was_seen_to_make() -> None:
    keys = _keys()
    assert keys["SystemCallFilter"] == ["@system-service"] and keys["SystemCallErrorNumber"] == ["EPERM"]
    assert keys["CapabilityBoundingSet"] == [""] and keys["DevicePolicy"] == ["closed"]
    assert {"char-video4linux rw", "char-drm rw", "char-accel rw"} <= set(keys["DeviceAllow"])
