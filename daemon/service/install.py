"""``homegym install-service`` and ``uninstall-service``: the daemon as a systemd service, in one command.

Install: a virtual environment under /opt/homegym with this package (and its shipped
model) pip-installed from the project folder, the reference config in
/etc/homegym/config.yaml unless one is there (a user's edits are never
overwritten), an empty root-only /etc/homegym/mqtt-password for LoadCredential=,
the unit in /etc/systemd/system, then ``systemctl enable --now``. Uninstall
disables and removes the unit and /opt/homegym; ``--purge`` also removes the
config, the state (outbox, today's totals) and the cache. ``--root`` stages it all
under another folder (for packaging and tests) and never calls systemctl.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from homegym.core.errors import UserError

from ..config.reference import render_yaml

log = logging.getLogger(__name__)
UNIT = "homegym.service"
SHIPPED_PREFIX = "/opt/homegym"
SERVICE_CONFIG = Path("/etc/homegym/config.yaml")
# The config install-service writes: the reference with these overrides, each with its reason beside it in the file.
SERVICE_OVERRIDES: dict[tuple[str, str], tuple[Any, str]] = {
    ("state", "dir"): ("/var/lib/homegym", "systemd's StateDirectory=, named so that homegym status finds the live page's token"),
    ("live", "enabled"): (True, "the live page, on this box only (live.host); homegym status prints its link"),
}


@dataclass(frozen=True)
class Layout:
    root: Path = Path("/")  # "/" is the real system; anything else is a staging folder
    prefix: str = SHIPPED_PREFIX

    def at(self, path: str) -> Path:
        return self.root / path.lstrip("/")

    @property
    def live(self) -> bool:
        return self.root == Path("/")

    @property
    def venv(self) -> Path:
        return self.at(self.prefix) / "venv"

    @property
    def etc(self) -> Path:
        return self.at("/etc/homegym")

    @property
    def unit(self) -> Path:
        return self.at(f"/etc/systemd/system/{UNIT}")


def _is_project(folder: Path) -> bool:
    return (folder / "pyproject.toml").exists() and (folder / "systemd" / UNIT).exists()


def project_folder() -> Path | None:
    """The checkout to install from: the one this package runs from (an editable install), else the current
    folder when it is one (``pip install .`` then ``homegym install-service`` from the checkout)."""
    here = Path(__file__).resolve().parents[2]
    for folder in (here, Path.cwd()):
        if _is_project(folder):
            return folder
    return None


def _run(cmd: list[str], what: str) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        last = (r.stderr or r.stdout).strip().splitlines()[-1:] or ["no output"]
        raise UserError(f"{what} failed ({' '.join(cmd[:3])} …): {last[0]}")


def _systemctl(*args: str) -> None:
    if shutil.which("systemctl") is None:
        raise UserError("systemctl not found: this machine does not run systemd (use --root to stage the files)")
    _run(["systemctl", *args], f"systemctl {args[0]}")


def _check_root(layout: Layout) -> None:
    if layout.live and os.geteuid() != 0:
        raise UserError("installing a system service needs root: run it with sudo")


def install(layout: Layout, source: Path | None = None, model: Path | None = None, start: bool = True) -> list[str]:
    """Install (or upgrade) the service; returns what was done, one line each."""
    source = source or project_folder()
    if source is None:
        raise UserError("cannot find the project folder: pass --source (the folder holding pyproject.toml)")
    source = source.resolve()
    for need in ("pyproject.toml", f"systemd/{UNIT}", "config.yaml"):
        if not (source / need).exists():
            raise UserError(f"{source} is not the project folder: {need} is missing")
    if model is not None and not (model / "model.xml").exists() and not model.suffix == ".xml":
        raise UserError(f"--model {model}: expected a folder with model.xml (from homegym convert)")
    _check_root(layout)
    done: list[str] = []
    venv = layout.venv
    if not (venv / "bin" / "python").exists():
        _run([sys.executable, "-m", "venv", str(venv)], "creating the virtual environment")
    _run([str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet", "--upgrade", str(source)], "pip install")
    done.append(f"installed the package into {venv}")

    if model is not None:
        dest = layout.at(layout.prefix) / "model"
        shutil.copytree(model if model.is_dir() else model.parent, dest, dirs_exist_ok=True)
        done.append(f"copied the model to {dest}")
    layout.etc.mkdir(parents=True, exist_ok=True)
    config = layout.etc / "config.yaml"
    if config.exists():
        done.append(f"kept your {config}" + (f" (set model.path: {layout.prefix}/model in it)" if model else ""))
    else:
        overrides = dict(SERVICE_OVERRIDES)
        if model is not None:
            overrides["model", "path"] = (f"{layout.prefix}/model", "the model install-service --model copied")
        config.write_text(render_yaml(overrides))
        done.append(f"wrote {config} (the documented reference with the service's overrides; edit it, then: "
                    "systemctl reload homegym)")
    password = layout.etc / "mqtt-password"
    if not password.exists():
        password.touch(mode=0o600)
        done.append(f"created {password} (empty; the MQTT password goes here)")
    os.chmod(password, 0o600)
    shutil.copy2(source / "README.md", layout.at(layout.prefix) / "README.md")

    unit = (source / "systemd" / UNIT).read_text().replace(SHIPPED_PREFIX, layout.prefix)
    layout.unit.parent.mkdir(parents=True, exist_ok=True)
    layout.unit.write_text(unit)
    done.append(f"wrote {layout.unit}")
    if layout.live:
        _systemctl("daemon-reload")
        _systemctl("enable", *(["--now"] if start else []), UNIT)
        done.append(f"enabled{' and started' if start else ''} {UNIT} (journalctl -u homegym -f to watch it)")
    return done


def uninstall(layout: Layout, purge: bool = False) -> list[str]:
    _check_root(layout)
    done: list[str] = []
    if layout.live and layout.unit.exists():
        _systemctl("disable", "--now", UNIT)
        done.append(f"stopped and disabled {UNIT}")
    if layout.unit.exists():
        layout.unit.unlink()
        done.append(f"removed {layout.unit}")
        if layout.live:
            _systemctl("daemon-reload")
    prefix = layout.at(layout.prefix)
    if prefix.exists():
        shutil.rmtree(prefix)
        done.append(f"removed {prefix}")
    leftovers = [layout.etc, layout.at("/var/lib/homegym"), layout.at("/var/lib/private/homegym"), layout.at("/var/cache/homegym"),
                 layout.at("/var/cache/private/homegym")]
    if purge:
        for p in leftovers:
            if p.is_symlink() or p.is_file():
                p.unlink()
                done.append(f"removed {p}")
            elif p.exists():
                shutil.rmtree(p)
                done.append(f"removed {p}")
    elif any(p.exists() for p in leftovers):
        done.append(f"kept the config in {layout.etc} and the state and cache (--purge removes them)")
    return done
