"""Commands that run the daemon's pipeline: ``count`` (a file), ``run`` (the service), its config and its install."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from homegym.core import exercises
from homegym.core.errors import UserError

from .parsing import add, load_config, log_level, service_config_path

log = logging.getLogger("homegym")


def _how(e: Any) -> str:
    """How a rep went, for count's line: tempo, the joint's travel, full or what fell short ("" where not measured)."""
    if "turn_t" not in e.model_fields_set:
        return ""
    if e.to_turn_s is None:
        return f"  not measured: {e.unmeasured}"
    verdict = "full" if e.full else ", ".join(f"short of {s.key} {s.limit:g} ({s.value:g})" for s in e.short) or "not judged"
    return (f"  tempo {e.to_turn_s:.1f}/{e.hold_s:.1f}/{e.back_s:.1f} s  {e.joint} {e.start_deg:.0f}->{e.turn_deg:.0f}°"
            f"  {verdict}")


def count_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.classify.factory import hint_for, open_model
    from homegym.daemon.config.settings import for_file
    from homegym.daemon.counting.events import Event, RepEvent
    from homegym.daemon.pipeline.observer import Fanout, Observer
    from homegym.daemon.pipeline.pipeline import Pipeline

    class _Printer(Observer):
        """Each counted rep on a line of its own (or as JSON), as it is counted."""

        def __init__(self, json_lines: bool) -> None:
            self.json_lines = json_lines

        def on_event(self, event: Event) -> None:
            if not isinstance(event, RepEvent):
                return
            e = event
            print(e.to_json() if self.json_lines else
                  f"{e.t:8.2f}s  {e.exercise:8s} rep {e.rep:3d}  set {e.set:2d}  total {e.total:3d}  confidence {e.confidence:.2f}"
                  f"{_how(e)}", flush=True)

    cfg = for_file(load_config(a.config), a.video)
    if a.live == "realtime":
        cfg = cfg.with_values("source", realtime=True)
    printer = _Printer(a.json)
    classifier = open_model(cfg.model, a.model, hint_for(cfg.source, bool(a.live)))
    annot = None
    if a.annotate:
        from homegym.core.video import open_video
        from homegym.daemon.frames.capture import stride_for
        from homegym.daemon.pipeline.annotate import Annotator

        cap, info = open_video(a.video)
        cap.release()
        picture = (cfg.pose.frame_size, cfg.pose.frame_size)  # --annotate turns the stage on: its canvas is drawn on
        annot = Annotator(a.annotate, classifier.labels, info.fps / stride_for(info.fps, cfg.pipeline.infer_fps), picture)
    pipe = Pipeline(cfg, classifier, Fanout(printer, annot) if annot else printer, pose=bool(a.annotate), live=a.live == "media")
    try:
        s = pipe.run()
    finally:
        if annot:
            annot.close()
    if a.json:
        print(json.dumps({"type": "summary", "total": s.total, "by_exercise": s.by_exercise, "partial": s.partial,
                          "frames": s.frames, "frames_read": s.frames_read, "frames_declared": s.frames_declared,
                          "dropped": s.dropped, "rested": s.rested, "fps": round(s.fps, 1)}))
    else:
        per = ", ".join(f"{ex} {n}" for ex, n in s.by_exercise.items())
        print(f"total {s.total} ({per}); {s.partial} partial; {s.frames} frames inferred at {s.fps:.0f} fps "
              f"(of {s.frames_read} read; the file declares {s.frames_declared})"
              + (f"; {s.rested} passed over at rest" if s.rested else "")
              + (f"; {s.dropped} dropped, the box behind real time" if s.dropped else ""))
    return 0


def _pose_one(video: Path, out: Path, tracker, cfg, stride: int | None, digest: str = "") -> str:
    """One video through the pose stage to ``out`` (written whole or not at all), ``digest`` its identity; the line
    to print."""
    from homegym.core.video import open_video
    from homegym.daemon.frames.capture import stride_for
    from homegym.daemon.pose.record import record

    _, info = open_video(video)  # a missing or undecodable file fails before any work
    stride = stride or stride_for(info.fps, cfg.pipeline.infer_fps)
    track = record(video, tracker, cfg.pose.frame_size, stride)
    tmp = out.with_name(out.name + ".part.npz")
    try:
        track.save(tmp, str(video), f"{tracker.landmarks.version}", digest)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    n, found = len(track.frame), int(track.found.sum())
    return (f"{out}: {n} frames (every {stride}. of {info.fps:.1f} fps), a person on {found} ({found / n:.0%}); "
            f"detector ran on {int(track.detected.sum())}; pose stage {track.busy_s / n * 1000:.1f} ms a frame")


def _tracker(cfg):
    from homegym.daemon.pose.stage import open_pose

    return open_pose(cfg.pose, live=False, cache_dir=cfg.model.cache_path())


def pose_cmd(a: argparse.Namespace) -> int:
    from homegym.core.video import open_video

    if a.stride is not None and a.stride < 1:
        raise UserError(f"--stride must be 1 or more, got {a.stride}")
    cfg = load_config(a.config)
    from homegym.core.pose_track import video_digest

    open_video(a.video)  # a missing or undecodable file fails before the models compile
    out = a.out or a.video.with_suffix(".pose.npz")
    if out.is_dir():
        out = out / a.video.with_suffix(".pose.npz").name  # -o FOLDER: the file goes in it
    if not out.parent.is_dir():
        raise UserError(f"-o {out}: no folder {out.parent}")
    print(_pose_one(a.video, out, _tracker(cfg), cfg, a.stride, video_digest(a.video)))
    return 0


def poses_cmd(a: argparse.Namespace) -> int:
    """Every clip of a manifest through the pose stage, as the daemon runs it, into a folder (training's keypoints).
    A clip whose file is there from the same landmark model and the same video (its bytes' digest) is kept: the run
    resumes where it stopped, and a clip re-encoded under the same name is made again."""
    from homegym.core import manifest
    from homegym.core.pose_track import PoseTrack, video_digest

    rows = manifest.read(a.manifest)
    if a.split:
        rows = [r for r in rows if r.split == a.split]
    if not rows:
        raise UserError(f"{a.manifest}: no clips{f' in split {a.split!r}' if a.split else ''}")
    cfg = load_config(a.config)
    tracker = _tracker(cfg)
    a.out.mkdir(parents=True, exist_ok=True)
    kept = changed = 0
    for i, row in enumerate(rows, 1):
        out = a.out / f"{row.path.stem}.npz"
        try:
            digest = video_digest(row.path)
        except OSError as e:
            raise UserError(f"cannot read {row.path}: {e.strerror}") from None
        if out.exists() and not a.force:
            try:
                old = PoseTrack.load(out)
            except UserError:
                old = None  # a damaged file: made again
            if old is not None and old.model == tracker.landmarks.version:
                if old.video_sha256 == digest:
                    kept += 1
                    continue
                changed += 1
                log.info("%s: the video is not the one its keypoints were made from: made again", row.path.name)
        print(f"[{i}/{len(rows)}] " + _pose_one(row.path, out, tracker, cfg, None, digest), flush=True)
    print(f"{len(rows)} clips in {a.out}: {len(rows) - kept} made ({changed} of a changed video), {kept} already there")
    return 0


def run_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.service import signals as signal_handling

    signals = signal_handling.install()  # already, where the command's first import saw "run"
    from homegym.daemon.service.service import run

    cfg = load_config(a.config)
    fixed = log_level(a) is not None
    if not fixed:
        logging.getLogger().setLevel(cfg.logging.level.upper())
    s = run(cfg, a.config, a.model, log_level_fixed=fixed, signals=signals)
    log.info("stopped: %d reps (%s), %d frames, %d dropped, %d reconnects", s.total,
             ", ".join(f"{k} {v}" for k, v in s.by_exercise.items()), s.frames, s.dropped, s.reconnects)
    return 0


def _status_lines(snap: dict) -> list[str]:
    """What the daemon's /api/state says, as ``homegym status`` prints it."""
    h, st = snap.get("health", {}), snap.get("state", {})

    def ms(key: str, what: str) -> str:
        return f", {what} {h[key]} ms a frame" if h.get(key) is not None else ""

    mqtt = h.get("mqtt", "–") + (f", {h['outbox']} events waiting" if h.get("outbox") is not None else "")
    per = ", ".join(f"{exercises.words(ex).lower()} {n}" for ex, n in st.get("today", {}).items())
    now = f"; now {exercises.words(st['exercise']).lower()}, set {st['set']}, {st['reps_in_set']} reps" if st.get("set") else ""
    lines = [f"daemon: answering; source {h.get('source', '–')}, {h.get('fps', '–')} frames a second"
             f"{ms('infer_ms', 'inference')}{ms('pose_ms', 'pose stage')}; MQTT {mqtt}",
             f"today: {st.get('total_today', 0)} reps ({per}){now}"]
    if h.get("unwritten"):
        lines.append(f"disk: {h['unwritten']} events not yet on disk (the state folder refuses writes: full or read-only?)")
    if h.get("reload_error"):
        lines.append(f"config: the last reload was refused, the old config runs: {h['reload_error']}")
    lines += [f"placement: {hint['text']}" for hint in snap.get("placement", [])]
    return lines


def status_cmd(a: argparse.Namespace) -> int:
    """The live page's link (and QR code), then what the running daemon says; exit 3 where nothing answers."""
    import http.client
    import urllib.error
    import urllib.request

    from homegym.daemon.live.access import load_token, local_url, page_url, qr_code

    path = service_config_path(a.config)
    cfg = load_config(path)
    if not cfg.live.enabled:
        raise UserError(f"the live page is off in {path or 'the built-in defaults'}: set live.enabled: true (and reload) "
                        "for homegym status and the page")
    token = load_token(cfg)
    url = page_url(cfg, token)
    print(f"live page: {url}")
    if token is not None:
        print(qr_code(url))
    local = local_url(cfg)
    req = urllib.request.Request(local + "api/state", headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            snap = json.load(r)
    except urllib.error.HTTPError as e:
        raise UserError(f"the daemon at {local} answered {e.code} {e.reason}: is its token the one in "
                        f"{cfg.live.token_file or 'state.dir'}?") from None
    except http.client.HTTPException as e:  # something answers on the port, but not HTTP
        raise UserError(f"something at {local} answered, but not as the daemon does ({type(e).__name__}): is live.port "
                        "another program's?") from None
    except (OSError, ValueError) as e:
        print(f"daemon: not answering at {local} ({getattr(e, 'reason', e)}): is it running? "
              "(systemctl status homegym)")
        return 3
    for line in _status_lines(snap):
        print(line)
    return 0


def check_config_cmd(a: argparse.Namespace) -> int:
    """What ``run`` checks before it starts, so ``systemctl reload`` (check-config, then the signal) fails on what the
    daemon would refuse."""
    cfg = load_config(a.file)
    if not a.syntax_only:
        from homegym.daemon.service.preflight import preflight

        for line in preflight(cfg, a.model):
            print(f"  {line}")
    print(f"{a.file}: ok")
    return 0


def config_reference_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.config import reference as config_reference

    print(config_reference.render_yaml() if a.format == "yaml" else config_reference.render_markdown(), end="")
    return 0


def install_service_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.service.install import Layout, install

    for line in install(Layout(a.root, a.prefix), a.source, a.model, start=not a.no_start):
        print(line)
    return 0


def uninstall_service_cmd(a: argparse.Namespace) -> int:
    from homegym.daemon.service.install import Layout, uninstall

    for line in uninstall(Layout(a.root, a.prefix), a.purge):
        print(line)
    return 0


def register(sub: Any) -> None:
    s = add(sub, "count", "count the reps in a video file with the daemon's pipeline, as fast as the machine allows",
             "  homegym count workout.mp4\n"
             "  homegym count workout.mp4 --json > reps.jsonl\n"
             "  homegym count workout.mp4 --annotate why.mp4 --model models/first --config config.yaml\n", count_cmd)
    s.add_argument("video", type=Path, help="a video file")
    s.add_argument("--model", type=Path, help="an IR (model.xml or its folder); default: model.path of the config, else the shipped model")
    s.add_argument("--config", type=Path, help="config.yaml (default: the built-in defaults, as documented in config.yaml)")
    s.add_argument("--json", action="store_true", help="one JSON object per rep, then a summary line")
    s.add_argument("--live", choices=("media", "realtime"),
                   help="count as the daemon does live: media = its live throttles on the file's own clock, no frame dropped; "
                        "realtime = the file played in real time as a camera (default: offline, as fast as it reads)")
    s.add_argument("--annotate", type=Path, metavar="OUT.mp4",
                   help="write the video with the count, phase, probabilities and the pose stage's skeleton drawn on it")

    s = add(sub, "pose", "write the pose stage's keypoints of every inferred frame of a video (.npz, docs/pose.md)",
             "  homegym pose workout.mp4                     # workout.pose.npz\n"
             "  homegym pose workout.mp4 -o keys.npz --stride 1\n", pose_cmd)
    s.add_argument("video", type=Path, help="a video file")
    s.add_argument("-o", "--out", type=Path, help="the .npz to write (default: VIDEO with .pose.npz)")
    s.add_argument("--stride", type=int, help="every N-th frame (default: as the daemon, from pipeline.infer_fps)")
    s.add_argument("--config", type=Path, help="config.yaml: its pose and pipeline sections (default: the built-in defaults)")

    s = add(sub, "poses", "the pose stage's keypoints of every clip of a manifest, into a folder (what train --kind keypoints reads)",
             "  homegym poses ../shared/data/clips.csv -o ~/.cache/homegym/poses\n"
             "  homegym poses clips.csv -o keys/ --split train\n", poses_cmd)
    s.add_argument("manifest", type=Path, help="a clip manifest (clips.csv)")
    s.add_argument("-o", "--out", type=Path, required=True, help="the folder: one <clip>.npz per clip (docs/pose.md)")
    s.add_argument("--split", help="only the clips of this split")
    s.add_argument("--force", action="store_true",
                   help="make every file again (default: keep those from the same landmark model and the same video file)")
    s.add_argument("--config", type=Path, help="config.yaml: its pose and pipeline sections (default: the built-in defaults)")

    s = add(sub, "run", "run the daemon on the configured live source (camera, stream or file)",
             "  homegym run --config /etc/homegym/config.yaml\n"
             "  homegym run --config config.yaml --model models/first --log-level DEBUG\n", run_cmd)
    s.add_argument("--config", type=Path, help="config.yaml (default: built-in defaults)")
    s.add_argument("--model", type=Path, help="overrides model.path")

    s = add(sub, "status", "the live page's link (and QR code), and what the running daemon says: source, rates, MQTT, "
             "today's count, the camera's placement",
             "  homegym status                                  # reads /etc/homegym/config.yaml where it exists\n"
             "  sudo homegym status                             # the token in /var/lib/homegym is root's\n"
             "  homegym status --config config.yaml\n", status_cmd)
    s.add_argument("--config", type=Path, help="the daemon's config.yaml (default: /etc/homegym/config.yaml where it exists)")

    s = add(sub, "check-config", "check a config file as run would (keys, model, credentials, folders), without running it",
             "  homegym check-config /etc/homegym/config.yaml\n", check_config_cmd)
    s.add_argument("file", type=Path)
    s.add_argument("--model", type=Path, help="the model run is given with --model (default: model.path of the file)")
    s.add_argument("--syntax-only", action="store_true",
                   help="the file alone: keys, types and bounds, not the model, credentials and folders it names")

    s = add(sub, "config-reference", "print every config key with its default, range and meaning",
             "  homegym config-reference > config.yaml                    # the documented reference\n"
             "  homegym config-reference --format markdown                # docs/configuration.md\n", config_reference_cmd)
    s.add_argument("--format", choices=("yaml", "markdown"), default="yaml", help="default yaml")
    s = add(sub, "install-service", "install the daemon as a systemd service (venv in /opt, config in /etc/homegym)",
             "  sudo .venv/bin/homegym install-service\n"
             "  sudo .venv/bin/homegym install-service --model models/mine --no-start\n"
             "  homegym install-service --root /tmp/stage     # stage the files, no systemctl\n", install_service_cmd)
    s.add_argument("--source", type=Path, help="the project folder to install from (default: the one this command runs from)")
    s.add_argument("--model", type=Path, help="a converted model folder to install and configure (default: the shipped model)")
    s.add_argument("--prefix", default="/opt/homegym", help="where the virtual environment goes (default /opt/homegym)")
    s.add_argument("--root", type=Path, default=Path("/"), help="stage under this folder instead of the system (no systemctl)")
    s.add_argument("--no-start", action="store_true", help="enable the unit but do not start it now")

    s = add(sub, "uninstall-service", "stop, disable and remove the systemd service and its /opt folder",
             "  sudo /opt/homegym/venv/bin/homegym uninstall-service\n"
             "  sudo /opt/homegym/venv/bin/homegym uninstall-service --purge   # config, state and cache too\n",
             uninstall_service_cmd)
    s.add_argument("--purge", action="store_true", help="also remove /etc/homegym, the state (outbox, totals) and the cache")
    s.add_argument("--prefix", default="/opt/homegym", help="where it was installed (default /opt/homegym)")
    s.add_argument("--root", type=Path, default=Path("/"), help="the staging folder it was installed under")
