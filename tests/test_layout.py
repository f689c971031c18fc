"""The tree is what the docs say it is, and the checks a newcomer relies on hold: lint, types, layers."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from support import ROOT

MAPPED = ["homegym/__init__.py", "homegym/core", "homegym/cli", "homegym/measure", "daemon", "train", "convert", "scripts"]


def _tree() -> set[str]:
    files: set[str] = set()
    for entry in MAPPED:
        p = ROOT / entry
        found = [p] if p.is_file() else sorted(p.rglob("*.py"))
        files |= {f.relative_to(ROOT).as_posix() for f in found if "__pycache__" not in f.parts}
    return files


def test_the_architecture_folder_map_matches_the_tree() -> None:
    text = (ROOT / "docs" / "architecture.md").read_text()
    mapped = set(re.findall(r"^\| `([^`]+)` \|", text.split("## Folder map", 1)[1], re.M))
    python = {m for m in mapped if m.endswith(".py")}
    assert python == _tree(), f"missing from the map: {sorted(_tree() - python)}; gone from the tree: {sorted(python - _tree())}"
    for m in mapped:
        assert (ROOT / m).exists(), m


def test_the_program_folders_are_linked_into_the_package() -> None:
    for name in ("train", "convert", "daemon"):
        link = ROOT / "homegym" / name
        assert link.is_symlink() and link.resolve() == (ROOT / name).resolve(), name


def _tool(name: str) -> str:
    exe = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if exe is None:
        pytest.skip(f"{name} is not installed (the test extra: pip install -e '.[test]')")
    return exe


@pytest.mark.parametrize("command", [["ruff", "check", "."], ["mypy"], ["lint-imports"]], ids=["ruff", "mypy", "layers"])
def test_static_checks_pass(command: list[str]) -> None:
    r = subprocess.run([_tool(command[0]), *command[1:]], cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-4000:]
