"""config.yaml: the documented reference parses, documents every key, and bad files fail one line per problem."""

from __future__ import annotations

import re

import yaml
from conftest import ROOT, run_cli

from homegym.daemon import config as C


def test_reference_config_is_valid_and_documents_every_key() -> None:
    text = (ROOT / "config.yaml").read_text()
    cfg = C.load(ROOT / "config.yaml")
    assert cfg == C.Config(), "config.yaml shows the defaults"
    data = yaml.safe_load(text)
    assert list(data) == list(C.SCHEMA)
    for section, keys in C.SCHEMA.items():
        assert list(data[section]) == list(keys), section
        for key in keys:  # every key has a comment block right above it
            block = text.split(f"\n{section}:\n", 1)[1]
            before = block.split(f"\n  {key}:", 1)[0].rstrip().splitlines()[-1]
            assert before.strip().startswith("#") or re.match(r"^\s+\w+:", before), f"{section}.{key} lacks a comment"
    assert run_cli("check-config", str(ROOT / "config.yaml")).returncode == 0


def test_bad_config_reports_each_problem_on_its_own_line(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source:\n  uri: 0\n  colour: red\n"
        "voting:\n  ema_alpha: 3\n  min_dwell: two\n  per_label:\n    pushup_down: {enter: 2}\n"
        "periodicity:\n  window_s: 0.5\n  enabled: yes please\n"
        "counter:\n  min_rep_s: 5\n  max_rep_s: 2\n"
        "mqtt_typo: {}\n"
    )
    r = run_cli("check-config", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    expected = ["source.colour: unknown key", "voting.ema_alpha: expected 0.01..1, got 3", "voting.min_dwell: expected an integer",
                "voting.per_label.pushup_down.enter: expected 0..1", "periodicity.window_s: expected 1..60, got 0.5",
                "periodicity.enabled: expected", "counter.min_rep_s: must be below", "mqtt_typo: unknown section"]
    assert len(lines) == len(expected) and all(line.startswith("homegym check-config: error: ") for line in lines)
    for want in expected:
        assert sum(want in line for line in lines) == 1, want


def test_unreadable_and_invalid_yaml(tmp_path) -> None:
    r = run_cli("check-config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "cannot read config" in r.stderr
    (tmp_path / "x.yaml").write_text("voting: [1, 2\n")
    r = run_cli("check-config", str(tmp_path / "x.yaml"))
    assert r.returncode == 2 and "not valid YAML at line" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "y.yaml").write_text("voting:\n  enter: true\n")
    assert "voting.enter: expected a number, got True" in run_cli("check-config", str(tmp_path / "y.yaml")).stderr
