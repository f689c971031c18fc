"""Bad input, each class the reliability rounds tried (docs/service.md lists them and what each gets).

On the command line: one error line and a non-zero exit, never a traceback. On a reload: one error line, the old
config counting on, and ``check-config`` (systemctl reload's first step) failing on the same file. Nothing lost.
"""

from __future__ import annotations

import shutil
import signal
import socket
import threading
import time

import pytest
from support import ROOT, Stderr, concat_clips, live_config, one_line_error, run_cli, start_daemon, wait_for, wait_http

from homegym.measure.broker import free_port

LAUGHS = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
    f"{b}: &{b} [{', '.join([f'*{a}'] * 9)}]\n" for a, b in zip("abcdefgh", "bcdefghi"))  # 9^9 lols in 465 bytes

# name -> (the file's bytes, what its one line says)
BAD_CONFIGS: dict[str, tuple[bytes, str]] = {
    "not UTF-8 (a binary file)": (b"\x89PNG\r\n\x1a\n\xff\xfe" + bytes(range(256)), "not UTF-8 text"),
    "billion laughs": (LAUGHS.encode(), "once its aliases are expanded"),
    "nested 3,000 deep": (("voting: " + "[" * 3000 + "]" * 3000 + "\n").encode(), "nested more than"),
    "a key twice": (b"voting:\n  window: 3\nvoting:\n  window: 5\n", "given twice, at lines 1 and 3"),
    "larger than a config": (b"# " + b"x" * 400_000 + b"\n", "larger than 256 KiB"),
    "a 200 kB bad value": (b"source:\n  fps: '" + b"x" * 200_000 + b"'\n", "(200002 characters)"),
    "not YAML": (b"voting: [1, 2\n", "not valid YAML"),
    "not a mapping": (b"- 1\n", "expected a mapping of sections"),
}


def _write(tmp_path, name: str, data: bytes):
    f = tmp_path / f"{abs(hash(name))}.yaml"
    f.write_bytes(data)
    return f


@pytest.mark.parametrize("name", BAD_CONFIGS)
def test_check_config_refuses_each_bad_file_in_one_short_line(tmp_path, name) -> None:
    data, says = BAD_CONFIGS[name]
    t0 = time.perf_counter()
    line = one_line_error(run_cli("check-config", str(_write(tmp_path, name, data))))
    assert says in line and len(line) < 400, line[:500]
    assert time.perf_counter() - t0 < 30, "bounded: no minutes of alias expansion"


@pytest.mark.slow
@pytest.mark.parametrize("command", ["run", "status"])
def test_run_and_status_refuse_bad_files_in_one_line(tmp_path, command) -> None:
    for name in ("not UTF-8 (a binary file)", "billion laughs", "nested 3,000 deep", "a key twice"):
        data, says = BAD_CONFIGS[name]
        r = run_cli(command, "--config", str(_write(tmp_path, name, data)), timeout=120)
        assert says in one_line_error(r), name


def _missing(tmp_path) -> str:
    return str(tmp_path / "not-there")


@pytest.mark.parametrize("case", ["tls_ca_file", "password_file", "damaged model", "model lacks an exercise"])
def test_check_config_checks_what_run_checks_before_it_starts(tmp_path, case) -> None:
    """systemctl reload runs check-config first: it must fail where the daemon would refuse the file."""
    if case == "tls_ca_file":
        text, says = f"mqtt:\n  tls_ca_file: {_missing(tmp_path)}\n", "mqtt.tls_ca_file"
    elif case == "password_file":
        text, says = f"mqtt:\n  username: gym\n  password_file: {_missing(tmp_path)}\n", "mqtt.password_file"
    elif case == "damaged model":
        model = tmp_path / "model"
        shutil.copytree(ROOT / "daemon" / "models" / "default", model)
        weights = model / "model.bin"
        weights.write_bytes(weights.read_bytes()[: weights.stat().st_size // 3])
        text, says = f"model:\n  path: {model}\n", str(model)
    else:
        text, says = "model:\n  path: image\ncounter:\n  exercises: [lunge]\n", "lunge"
    cfg = tmp_path / "c.yaml"
    cfg.write_text(text + f"state:\n  dir: {tmp_path / 'state'}\n")
    assert run_cli("check-config", "--syntax-only", str(cfg)).returncode == 0, "the file itself is valid"
    assert says in one_line_error(run_cli("check-config", str(cfg)))


def test_check_config_passes_the_reference_and_says_what_it_checked(tmp_path) -> None:
    cfg = tmp_path / "c.yaml"
    reference = (ROOT / "config.yaml").read_text()
    assert reference.count("  dir: null\n") == 1
    cfg.write_text(reference.replace("  dir: null\n", f"  dir: {tmp_path / 'state'}\n"))
    r = run_cli("check-config", str(cfg))
    assert r.returncode == 0, r.stderr
    assert "model " in r.stdout and "pose models" in r.stdout and "writable" in r.stdout and r.stdout.endswith(": ok\n")


@pytest.mark.parametrize("command", ["eval", "poses"])
def test_a_manifest_that_is_not_utf8_gets_one_line(tmp_path, command) -> None:
    m = tmp_path / "clips.csv"
    m.write_bytes(b"file,exercise,reps,rep_bottom_frames,split\n\xff\xfeclip.mp4,pushup,3,,eval\n")
    args = [command, str(m)] + (["-o", str(tmp_path / "out")] if command == "poses" else [])
    assert "not UTF-8 text" in one_line_error(run_cli(*args))


@pytest.fixture
def empty_video(tmp_path):
    """An .mp4 OpenCV writes with no frame in it."""
    import cv2

    f = tmp_path / "empty.mp4"
    cv2.VideoWriter(str(f), cv2.VideoWriter.fourcc(*"mp4v"), 30.0, (64, 48)).release()
    return f


@pytest.mark.parametrize("command", ["count", "run"])
def test_a_video_without_frames_is_an_error_not_zero_reps(tmp_path, empty_video, command) -> None:
    if command == "count":
        r = run_cli("count", str(empty_video))
    else:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"source:\n  uri: {empty_video}\nmqtt:\n  enabled: false\nstate:\n  dir: {tmp_path / 'state'}\n")
        r = run_cli("run", "--config", str(cfg), timeout=120)
    line = one_line_error(r)
    assert "empty.mp4" in line and ("no frame" in line or "cannot open" in line), line


@pytest.mark.slow
def test_pose_into_a_folder_writes_the_file_there_and_leaves_nothing_else(tmp_path, live_clips) -> None:
    out = tmp_path / "keys"
    out.mkdir()
    r = run_cli("pose", str(live_clips / "long.mp4"), "-o", str(out))
    assert r.returncode == 0, r.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keys"] and [p.name for p in out.iterdir()] == ["long.pose.npz"]


def test_status_says_in_one_line_when_something_else_answers_on_the_port(tmp_path) -> None:
    """Something that is not HTTP (here an SSH-like banner, then a close) on live.port."""
    server = socket.create_server(("127.0.0.1", 0))
    port = server.getsockname()[1]

    def answer() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            conn.sendall(b"SSH-2.0-OpenSSH_9.2\r\n")
            conn.close()

    threading.Thread(target=answer, daemon=True).start()
    cfg = tmp_path / "c.yaml"
    cfg.write_text(f"live:\n  enabled: true\n  port: {port}\nstate:\n  dir: {tmp_path / 'state'}\n")
    try:
        assert "answered, but not as the daemon does" in one_line_error(run_cli("status", "--config", str(cfg)))
    finally:
        server.close()


@pytest.mark.slow
def test_a_reload_of_each_bad_file_logs_one_line_and_counts_on_with_the_old_config(tmp_path, live_clips) -> None:
    clip = tmp_path / "standing.mp4"
    concat_clips(live_clips, [{"file": "long.mp4", "fps": 15}] * 4, clip)  # 80 s in real time
    port = free_port()
    cfg = live_config(tmp_path, clip, port)
    good = cfg.read_text()
    proc = start_daemon(cfg)
    log = Stderr(proc)
    try:
        assert wait_http(f"http://127.0.0.1:{port}/api/state"), log.text()[-2000:]
        for n, (name, (data, says)) in enumerate(BAD_CONFIGS.items(), 1):
            before = len(log.lines)
            cfg.write_bytes(data)
            assert run_cli("check-config", str(cfg)).returncode != 0, "systemctl reload fails at its check-config"
            proc.send_signal(signal.SIGHUP)
            assert wait_for(lambda n=n: sum("rejected" in line for line in log.lines) >= n, 30), (name, log.text()[-2000:])
            new = log.lines[before:]
            errors = [line for line in new if " ERROR " in line]
            assert len(errors) == 1 and says in errors[0] and len(errors[0]) < 700, (name, errors)
            assert proc.poll() is None, f"{name}: the daemon counts on"
        r = run_cli("status", "--config", str(cfg))
        assert r.returncode != 0, "status reads the same bad file"
        cfg.write_text(good)
        r = run_cli("status", "--config", str(cfg))
        assert r.returncode == 0 and "the last reload was refused" in r.stdout, r.stdout
        proc.send_signal(signal.SIGHUP)
        assert wait_for(lambda: any("reload of" in line and ("applied" in line or "nothing changed" in line)
                                    for line in log.lines), 30)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0 and "Traceback" not in log.text()


@pytest.mark.slow
def test_a_sighup_right_after_start_does_not_kill_the_daemon(tmp_path, live_clips) -> None:
    """The handler goes in with the command's first import, a few ms after Python's own start (measured here, as
    the machine runs now), long before the model compiles."""
    import subprocess
    import sys

    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    python_start = time.perf_counter() - t0
    cfg = live_config(tmp_path, live_clips / "long.mp4", free_port())
    proc = start_daemon(cfg)
    time.sleep(python_start + 0.08)  # the old handler came after some 200 ms of imports
    proc.send_signal(signal.SIGHUP)
    log = Stderr(proc)
    try:
        assert wait_for(lambda: any("ready: first frame" in line for line in log.lines), 60) or proc.poll() is None, \
            log.text()[-2000:]
        assert proc.poll() is None, f"killed by the SIGHUP: {proc.returncode}"
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert proc.returncode == 0


def test_a_state_folder_that_takes_no_file_is_refused_in_one_line(tmp_path) -> None:
    """A read-only tmpfs as state.dir (root only: root writes through file modes, not through a read-only mount)."""
    import os
    import subprocess

    state = tmp_path / "state"
    state.mkdir()
    if os.geteuid() != 0 or subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1M", "tmpfs", str(state)],
                                           capture_output=True).returncode != 0:
        pytest.skip("mounting a read-only tmpfs needs root")
    try:
        cfg = tmp_path / "c.yaml"
        cfg.write_text(f"mqtt:\n  enabled: false\nstate:\n  dir: {state}\n")
        for command in ("check-config", "run"):
            args = [command, str(cfg)] if command == "check-config" else [command, "--config", str(cfg)]
            assert f"state.dir: cannot write in {state}: Read-only file system" in one_line_error(run_cli(*args, timeout=120))
    finally:
        subprocess.run(["umount", "-l", str(state)], capture_output=True)
