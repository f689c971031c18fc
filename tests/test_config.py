"""config.yaml: one source of truth (the models), the reference and its docs rendered from it, one line per problem."""

from __future__ import annotations

import pytest
import yaml
from support import ROOT, one_line_error, run_cli

from homegym.daemon.config import reference as config_reference
from homegym.daemon.config import settings as C


def test_reference_config_and_its_docs_are_the_models_rendering() -> None:
    """config.yaml and docs/configuration.md are what `homegym config-reference` prints: a default lives once, in config.py."""
    assert (ROOT / "config.yaml").read_text() == config_reference.render_yaml(), "run: homegym config-reference > config.yaml"
    assert (ROOT / "docs" / "configuration.md").read_text() == config_reference.render_markdown(), \
        "run: homegym config-reference --format markdown > docs/configuration.md"
    assert C.load(ROOT / "config.yaml") == C.Config(), "config.yaml shows the defaults"
    data = yaml.safe_load((ROOT / "config.yaml").read_text())
    assert list(data) == list(C.Config.model_fields)
    for name, _model, fields in config_reference.sections():
        assert list(data[name]) == list(fields), name
        for key, f in fields.items():
            assert f.description, f"{name}.{key} has no description"
    r = run_cli("config-reference")
    assert r.returncode == 0 and r.stdout == config_reference.render_yaml()
    assert run_cli("check-config", str(ROOT / "config.yaml")).returncode == 0


def test_bad_config_reports_each_problem_on_its_own_line(tmp_path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "source:\n  uri: 0\n  colour: red\n"
        "voting:\n  ema_alpha: 3\n  min_dwell: two\n  per_label:\n    pushup_down: {enter: 2, hold: 1}\n"
        "periodicity:\n  window_s: 0.5\n  enabled: yes please\n"
        "counter:\n  min_rep_s: 5\n  max_rep_s: 2\n"
        "mqtt_typo: {}\n"
    )
    r = run_cli("check-config", str(bad))
    assert r.returncode == 2 and "Traceback" not in r.stderr
    lines = r.stderr.strip().splitlines()
    expected = ["source.colour: unknown key (known: uri,", "voting.ema_alpha: input should be less than or equal to 1, got 3",
                "voting.min_dwell: input should be a valid integer, got 'two'",
                "voting.per_label.pushup_down.enter: input should be less than or equal to 1, got 2",
                "voting.per_label.pushup_down.hold: unknown key (known: enter, exit, min_dwell)",
                "periodicity.window_s: input should be greater than or equal to 1, got 0.5",
                "periodicity.enabled: input should be a valid boolean", "counter.min_rep_s: must be below counter.max_rep_s",
                "mqtt_typo: unknown section (known: source,"]
    assert len(lines) == len(expected) and all(line.startswith(f"homegym check-config: error: {bad}: ") for line in lines), lines
    for want in expected:
        assert sum(want in line for line in lines) == 1, want


@pytest.mark.parametrize(("text", "message"), [
    ("voting:\n  enter: true\n", "voting.enter: input should be a valid number, got True"),
    ("voting:\n  enter: 0.3\n  exit: 0.5\n", "voting.exit: must not exceed voting.enter"),
    ("source:\n  fps: '30'\n", "source.fps: input should be a valid number, got '30'"),
    ("source:\n  reconnect_initial_s: 9\n  reconnect_max_s: 1\n", "source.reconnect_initial_s: must not exceed"),
    ("model:\n  precision: fp64\n", "model.precision: input should be 'fp32', 'fp16' or 'int8', got 'fp64'"),
    ("mqtt:\n  topic_prefix: gym/#\n", "mqtt.topic_prefix: must not contain the MQTT wildcards"),
    ("mqtt:\n  topic_prefix: gym/+/x\n", "mqtt.topic_prefix: must not contain the MQTT wildcards"),
    ("mqtt:\n  topic_prefix: ''\n", "mqtt.topic_prefix: must not be empty"),
    ("mqtt:\n  topic_prefix: /gym\n", "mqtt.topic_prefix: must not start or end with /"),
    ("mqtt:\n  tls_certfile: a.crt\n", "mqtt.tls_certfile: a client certificate needs both"),
    ("mqtt:\n  password_file: p\n", "mqtt.password_file: set mqtt.username too"),
    ("mqtt:\n  port: 70000\n", "mqtt.port: input should be less than or equal to 65535"),
    ("- 1\n", "expected a mapping of sections"),
])
def test_each_rule_names_its_key(tmp_path, text: str, message: str) -> None:
    f = tmp_path / "c.yaml"
    f.write_text(text)
    assert message in one_line_error(run_cli("check-config", str(f)))


def test_overrides_are_validated_like_a_file() -> None:
    """tune's candidates and count's file source go through the same rules as a file (no unchecked copies)."""
    cfg = C.Config().with_values("voting", enter=0.5, exit=0.2)
    assert (cfg.voting.enter, cfg.voting.exit) == (0.5, 0.2)
    with pytest.raises(C.ConfigError, match="voting.exit: must not exceed"):
        C.Config().with_values("voting", exit=0.9)
    assert C.for_file(C.Config(), "/x.mp4").source.uri == "/x.mp4"


def test_unreadable_and_invalid_yaml(tmp_path) -> None:
    r = run_cli("check-config", str(tmp_path / "missing.yaml"))
    assert r.returncode == 2 and "cannot read config" in r.stderr
    (tmp_path / "x.yaml").write_text("voting: [1, 2\n")
    r = run_cli("check-config", str(tmp_path / "x.yaml"))
    assert r.returncode == 2 and "not valid YAML at line" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    (tmp_path / "y.yaml").write_text("voting:\n")  # a section with every key commented out
    assert run_cli("check-config", str(tmp_path / "y.yaml")).returncode == 0
