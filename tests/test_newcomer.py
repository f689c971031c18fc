"""A newcomer with the README alone: from a fresh clone to a counted clip, an installed service and a phone that
gets the reps. The README's own first command block is what runs."""

from __future__ import annotations

import re
import subprocess
import time

import pytest
from support import ROOT, Subscriber, wait_for

from homegym.measure.broker import Mosquitto, free_port, mosquitto_path


def readme_block(heading: str, n: int = 0) -> str:
    """The n-th ```sh block under a README heading."""
    section = (ROOT / "README.md").read_text().split(f"## {heading}\n", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```sh\n(.*?)```", section, re.S)[n].strip()


@pytest.mark.slow
@pytest.mark.skipif(not (ROOT / ".git").exists(), reason="needs the project's git checkout to clone")
@pytest.mark.skipif(mosquitto_path() is None, reason="mosquitto is not installed (.ci/run installs it)")
def test_from_a_fresh_clone_to_a_counted_clip_a_service_and_a_phone(tmp_path) -> None:
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    # Uncommitted work is not in the clone: the test is of what a newcomer would get, so copy the tree as it is.
    subprocess.run(["bash", "-c", f"cd {ROOT} && git ls-files -z --others --exclude-standard --cached | "
                    f"xargs -0 -I{{}} cp -P --parents {{}} {clone}/ 2>/dev/null; true"], check=True)

    # 1. The README's first command: install and count the rendered clip on the shipped defaults.
    setup = readme_block("Set-up")
    assert setup.startswith("python3 -m venv .venv") and "homegym count" in setup
    r = subprocess.run(["bash", "-c", setup], cwd=clone, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    assert re.search(r"^total 3 \(curl 0, .*pushup 3, .*squat 0\)", r.stdout, re.M), r.stdout[-2000:]
    homegym = clone / ".venv" / "bin" / "homegym"
    no_tf = subprocess.run([str(clone / ".venv/bin/python"), "-c", "import tensorflow"], capture_output=True)
    assert no_tf.returncode != 0, "the main job's install has no TensorFlow"

    # 2. The service, as the README installs it, staged where systemd is not running.
    service = readme_block("Run it as a service")
    assert "homegym install-service" in service
    stage = tmp_path / "stage"
    r = subprocess.run([str(homegym), "install-service", "--root", str(stage), "--no-start"], cwd=clone,
                       capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stderr[-2000:]
    staged = stage / "opt/homegym/venv/bin/homegym"
    config = stage / "etc/homegym/config.yaml"
    assert staged.exists() and config.exists() and (stage / "etc/systemd/system/homegym.service").exists()

    # 3. A phone subscribed to gym/# gets the reps the staged service counts (its config edited as the README says).
    (tmp_path / "broker").mkdir()
    with Mosquitto(tmp_path / "broker") as broker:
        text = config.read_text()
        edits = {"\n  uri: 0\n": f"\n  uri: {clone / 'demo' / 'pushup_00000.mp4'}\n",
                 "\n  port: 1883\n": f"\n  port: {broker.port}\n",
                 "\n  dir: /var/lib/homegym\n": f"\n  dir: {tmp_path / 'state'}\n",  # install-service's, never the machine's
                 "\n  port: 8088\n": f"\n  port: {free_port()}\n"}  # the live page, on at 127.0.0.1
        for old, new in edits.items():
            assert old in text, f"the installed config has no {old.strip()!r}: edit the test with it"
            text = text.replace(old, new, 1)
        config.write_text(text)
        assert subprocess.run([str(staged), "check-config", str(config)], capture_output=True).returncode == 0
        phone = Subscriber(broker.port)
        try:
            time.sleep(0.5)
            run = subprocess.run([str(staged), "run", "--config", str(config)], capture_output=True, text=True, timeout=300)
            assert run.returncode == 0, run.stderr[-2000:]
            assert wait_for(lambda: len(phone.reps()) >= 3, 20), phone.messages
            reps = phone.reps()
            assert [x["total"] for x in reps] == [1, 2, 3] and {x["exercise"] for x in reps} == {"pushup"}
        finally:
            phone.close()
