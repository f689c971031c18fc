"""The package's shape: one namespace, a CLI with help and examples, and no TensorFlow in the daemon."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import run_cli

SUBCOMMANDS = ["synth", "extract", "label", "train"]


@pytest.mark.parametrize("module", ["homegym.daemon", "homegym.cli", "homegym.train.synth", "homegym.train.from_reps", "homegym.train.labeller"])
def test_module_does_not_import_tensorflow(module: str) -> None:
    code = f"import sys, {module}; bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, f"{module} pulled in {r.stdout.strip()}"


def test_cli_lists_subcommands_and_each_has_examples() -> None:
    r = run_cli("--help")
    assert r.returncode == 0
    for name in SUBCOMMANDS:
        assert name in r.stdout
        sub = run_cli(name, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "examples:" in sub.stdout and f"homegym {name}" in sub.stdout


def test_cli_help_does_not_load_tensorflow() -> None:
    code = "import sys; from homegym.cli import build_parser; build_parser(); sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


def test_packages_live_under_one_namespace() -> None:
    import homegym.convert
    import homegym.daemon
    import homegym.train

    for mod in (homegym.train, homegym.convert, homegym.daemon):
        assert mod.__name__.startswith("homegym.")
