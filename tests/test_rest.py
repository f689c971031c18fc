"""The quiet rest: live, a person holding still between sets is inferred a few frames a second, and no rep is lost to
it (docs/pose.md). The counts are taken through the live mode (``--live media``: the daemon's loop and throttles on
the media clock, the same on any machine), with the rest on and off."""

from __future__ import annotations

import json

import cv2
import numpy as np
import pytest
from support import run_cli

from homegym.daemon.config.settings import RestConfig
from homegym.daemon.pipeline.rest import QuietRest

# eval clips with a still stretch of 4 s or more around their reps (rep_bottom_frames; docs/pose.md lists them):
# a pause mid-set, a still start before the first rep, a still end
PAUSED_EVAL_CLIPS = ("clips/pushup/tayyab_pushup1.mp4", "clips/curl/maor_biceps.mp4", "clips/squat/romlevi_squat.mp4",
                     "clips/squat/tommyhill_squat1.mp4", "clips/pushup/djeyrane_pushups.mp4")
JOINED = ("clips/squat/nikan_squat_video.mp4", "clips/pushup/tayyab_pushup2.mp4", "clips/squat/tommyhill_squat1.mp4")


def standing(jitter: float, rng: np.random.Generator) -> np.ndarray:
    """A person's 33 landmarks on the canvas (x, y, z, visibility), torso 0.2 long, each joint off by up to ``jitter``."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 0], lm[:, 1], lm[:, 3] = 0.5, np.linspace(0.2, 0.8, 33), 0.9
    lm[[11, 12], 1], lm[[23, 24], 1] = 0.3, 0.5
    lm[:, :2] += rng.uniform(-jitter, jitter, (33, 2))
    return lm


def test_still_for_after_s_rests_at_its_rate_and_the_first_move_wakes_it() -> None:
    rng = np.random.default_rng(0)
    rest = QuietRest(RestConfig(fps=2.0, after_s=2.0, still=0.08))
    inferred = []
    for i in range(90):  # a camera's 15 frames a second, a person still but for the landmarks' jitter (under 0.06 torso lengths)
        t = i / 15
        if rest.due(t):
            inferred.append(t)
            rest.observe(standing(0.004, rng), t)
    resting_from = 2.0
    assert rest.resting and len([x for x in inferred if x <= resting_from]) == 31, "every frame until still for 2 s"
    gaps = np.diff([x for x in inferred if x > resting_from + 0.1])
    assert len(gaps) >= 6 and np.all(gaps >= 0.45) and np.all(gaps <= 0.55), "then one frame each 1/fps s"
    moved = standing(0.0, rng)
    moved[15, :2] += 0.05  # a wrist moves a quarter of the torso
    rest.observe(moved, t)
    assert not rest.resting and rest.due(t + 1 / 15), "the next frame is inferred again"


def test_nobody_a_hidden_body_or_a_joint_out_of_sight_never_rests_on_its_own() -> None:
    rng = np.random.default_rng(1)
    rest = QuietRest(RestConfig(after_s=0.5))
    for i in range(30):
        rest.observe(None, i / 15)
    assert not rest.resting, "nobody found: the detector's idle rate rules, not the rest"
    hidden = standing(0.0, rng)
    hidden[:, 3] = 0.1
    for i in range(30):
        rest.observe(hidden, 2 + i / 15)
    assert not rest.resting, "no joint seen well enough to watch"
    flailing = [standing(0.0, rng) for _ in range(30)]
    for i, lm in enumerate(flailing):
        lm[16, :2] += 0.1 * (i % 2)  # a wrist swinging by half a torso
        lm[16, 3] = 0.2  # ... unseen: an occluded joint's wandering is not movement
        rest.observe(lm, 4 + i / 15)
    assert rest.resting


def _count(video, rest: bool, tmp_path) -> dict:
    cfg = tmp_path / f"rest_{rest}.yaml"
    cfg.write_text(f"rest:\n  enabled: {'true' if rest else 'false'}\n")
    r = run_cli("count", str(video), "--live", "media", "--json", "--config", str(cfg))
    assert r.returncode == 0, r.stderr[-2000:]
    return json.loads(r.stdout.strip().splitlines()[-1])


@pytest.mark.realdata
@pytest.mark.parametrize("clip", PAUSED_EVAL_CLIPS)
def test_no_rep_is_lost_after_a_pause_on_the_eval_clips(clip, shared_data, tmp_path) -> None:
    on, off = _count(shared_data / clip, True, tmp_path), _count(shared_data / clip, False, tmp_path)
    assert off["rested"] == 0 and off["frames"] == on["frames"] + on["rested"]
    assert (on["total"], on["by_exercise"]) == (off["total"], off["by_exercise"]), (on, off)


def _reps(video, rest: bool, tmp_path) -> list[tuple[float, str]]:
    cfg = tmp_path / f"rest_{rest}.yaml"
    cfg.write_text(f"rest:\n  enabled: {'true' if rest else 'false'}\n")
    r = run_cli("count", str(video), "--live", "media", "--json", "--config", str(cfg))
    assert r.returncode == 0, r.stderr[-2000:]
    events = [json.loads(line) for line in r.stdout.strip().splitlines()]
    return [(e["t"], e["exercise"]) for e in events if e["type"] == "rep"]


@pytest.mark.realdata
def test_no_rep_is_lost_after_a_10_s_still_hold_between_sets(shared_data, tmp_path) -> None:
    """Each set's reps are counted alike with the rest on and off, the first after each hold included. On the held
    frames themselves a model may count reps of a person standing still with the rest off (the eight-exercise model
    of features version 1 counted three here, version 2 none); the rest, which infers two of those frames a second,
    counts none there (docs/pose.md)."""
    joined = tmp_path / "rests.mp4"
    r = run_cli("join", str(joined), *(str(shared_data / c) for c in JOINED), "--hold", "10")
    assert r.returncode == 0, r.stderr[-2000:]
    starts = [float(line.split()[0]) for line in r.stdout.splitlines() if line.strip().endswith(".mp4") and " s  " in line]
    ends = [start + own for start, own in zip(starts, (_seconds(shared_data / c) for c in JOINED))]
    holds = [(end, end + 10.0) for end in ends[:-1]]
    on, off = _reps(joined, True, tmp_path), _reps(joined, False, tmp_path)

    def in_hold(t: float) -> bool:
        return any(a + 0.5 <= t <= b for a, b in holds)  # a rep ending as its clip's last frame is held is the set's

    sets_off = [(round(t, 1), ex) for t, ex in off if not in_hold(t)]  # each set's reps, the first after each hold too
    assert [(round(t, 1), ex) for t, ex in on] == sets_off and len(sets_off) >= 8, (on, off)
    assert _count(joined, True, tmp_path)["rested"] >= 100, "the rest took hold in the holds"


def _seconds(video) -> float:
    cap = cv2.VideoCapture(str(video))
    n, fps = cap.get(cv2.CAP_PROP_FRAME_COUNT), cap.get(cv2.CAP_PROP_FPS)
    cap.release()
    return n / fps


def test_a_file_counted_offline_never_rests(shared_data, tmp_path) -> None:
    clip = shared_data / PAUSED_EVAL_CLIPS[2]
    r = run_cli("count", str(clip), "--json")
    assert r.returncode == 0 and json.loads(r.stdout.strip().splitlines()[-1])["rested"] == 0


def test_a_reload_turns_the_rest_off_and_on_at_once(shared_data) -> None:
    from homegym.daemon.config.settings import for_file, load
    from homegym.daemon.pipeline.pipeline import Pipeline

    cfg = for_file(load(None), shared_data / PAUSED_EVAL_CLIPS[2])
    pipe = Pipeline.open(cfg, live=True)  # as the service counts: live, the keypoint classifier on the stage
    pipe.start()
    assert isinstance(pipe.rest, QuietRest) and pipe.rest.cfg.fps == 2.0
    pipe.reconfigure(cfg.with_values("rest", enabled=False))
    assert pipe.rest is None, "a reload applies to the next frame, with no restart of the stage"
    pipe.reconfigure(cfg.with_values("rest", fps=1.0))
    assert isinstance(pipe.rest, QuietRest) and pipe.rest.cfg.fps == 1.0
    offline = Pipeline.open(cfg)
    offline.start()
    assert offline.rest is None, "a file counted offline never rests"
