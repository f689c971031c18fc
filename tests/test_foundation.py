"""The package's shape: one namespace, a CLI whose every command has help and examples, no TensorFlow in the daemon."""

from __future__ import annotations

import subprocess
import sys

import pytest
from support import run_cli

from homegym.cli import build_parser

SUBCOMMANDS = ["count", "run", "status", "check-config", "config-reference", "install-service", "uninstall-service", "history",
               "eval", "tune", "form-check",
               "bench", "synth", "join", "extract", "label", "train", "convert", "pose", "poses", "pose-parity"]


@pytest.mark.parametrize("module", ["homegym.daemon.service.service", "homegym.cli", "homegym.measure.evaluate", "homegym.measure.tune",
                                    "homegym.train.synth", "homegym.train.from_reps", "homegym.train.labeller"])
def test_module_does_not_import_tensorflow(module: str) -> None:
    code = f"import sys, {module}; bad = [m for m in ('tensorflow', 'keras') if m in sys.modules]; print(bad); sys.exit(1 if bad else 0)"
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert r.returncode == 0, f"{module} pulled in {r.stdout.strip()}"


def test_every_subcommand_has_help_and_examples() -> None:
    sub = next(a for a in build_parser()._actions if a.dest == "command")
    assert sorted(sub.choices) == sorted(SUBCOMMANDS), "a new command: add it here and to the README"
    r = run_cli("--help")
    assert r.returncode == 0
    for name in SUBCOMMANDS:
        assert name in r.stdout
        help_text = sub.choices[name].format_help()
        assert "examples:" in help_text and f"homegym {name}" in help_text.split("examples:")[1], name


def test_cli_help_does_not_load_tensorflow() -> None:
    code = "import sys; from homegym.cli import build_parser; build_parser(); sys.exit('tensorflow' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code]).returncode == 0


@pytest.mark.parametrize("kind", ["keypoints", "image"])
def test_a_command_whose_extra_is_missing_says_which_in_one_line(tmp_path, kind) -> None:
    """train on a daemon-only install, either kind: one line naming the missing package and the extra, exit 2, no
    traceback, before any data is read."""
    clips = tmp_path / "clips"
    assert run_cli("synth", str(clips), "--count", "8", "--kinds", "pushup,squat", "--duration", "4", "--size", "96x72").returncode == 0
    args = ["--kind", "image", str(clips), "--weights", "none"] if kind == "image" else [str(clips / "clips.csv"), "--tracks",
                                                                                         str(tmp_path)]
    code = ("import sys; sys.modules['keras'] = None; sys.modules['tensorflow'] = None\n"
            "from homegym.cli import main\n"
            f"sys.exit(main(['train', *{args!r}, '-o', {str(tmp_path / 'out')!r}]))")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    lines = [line for line in r.stderr.splitlines() if line.strip() and not line.startswith(("INFO", "WARNING"))]
    assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr[-2000:]
    assert lines == ["homegym train: error: needs keras, which is not installed: pip install 'homegym-spotter[train]' "
                     "(or pip install -e '.[train]' in the checkout)"], lines
