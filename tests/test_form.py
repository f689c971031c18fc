"""Each rep's tempo, range of motion and full-or-short, from a skeleton whose angles are known frame by frame; through
the counter (rep events, partials with form.count_short off, set averages) and config.yaml's thresholds."""

from __future__ import annotations

import math

import numpy as np
import pytest
from support import one_line_error, run_cli

from homegym.core import body
from homegym.core.keypoint_features import L_AN, L_EL, L_HIP, L_KN, L_SH, L_WR, NOSE, R_AN, R_EL, R_HIP, R_KN, R_SH, R_WR
from homegym.core.labels import LabelSet
from homegym.daemon.config.settings import CounterConfig, FormConfig, VotingConfig, parse
from homegym.daemon.counting.counter import RepCounter
from homegym.daemon.counting.events import PartialRepEvent, RepEvent, SetEndEvent
from homegym.daemon.counting.form import FormMeter
from homegym.daemon.counting.voting import Voter

FPS = 15.0
SHIN, THIGH, TORSO = 0.2, 0.2, 0.25


def squat_pose(thigh_deg: float, vis: float = 0.95) -> np.ndarray:
    """A side view of a squat on a square canvas: thighs ``thigh_deg`` from upright (90 = level), shins leaning
    a third of that forward; 33 landmarks of (x, y, z, visibility)."""
    lm = np.zeros((33, 4), np.float32)
    lm[:, 3] = 0.95
    shin = math.radians(thigh_deg / 3)
    ankle = np.array([0.5, 0.9])
    knee = ankle + SHIN * np.array([math.sin(shin), -math.cos(shin)])
    t = math.radians(thigh_deg)
    hip = knee + THIGH * np.array([-math.sin(t), -math.cos(t)])
    shoulder = hip + TORSO * np.array([0.3, -1.0]) / math.hypot(0.3, 1.0)
    for (a, k, h, s, e, w) in ((L_AN, L_KN, L_HIP, L_SH, L_EL, L_WR), (R_AN, R_KN, R_HIP, R_SH, R_EL, R_WR)):
        lm[a, :2], lm[k, :2], lm[h, :2], lm[s, :2] = ankle, knee, hip, shoulder
        lm[e, :2], lm[w, :2] = shoulder + [0.1, 0.05], shoulder + [0.2, 0.0]
    lm[NOSE, :2] = shoulder + [0.05, -0.08]
    lm[[L_KN, R_KN, L_HIP, R_HIP, L_AN, R_AN], 3] = vis
    return lm


def knee_angle(thigh_deg: float) -> float:
    return 180.0 - thigh_deg - thigh_deg / 3


def squat_profile(bottom_deg: float, hold_s: float = 0.4, ramp_s: float = 1.0, rest_s: float = 0.6) -> list[float]:
    """The thigh's angle frame by frame: standing, a steady way down, a hold, a steady way up, standing."""
    rest, ramp, hold = round(rest_s * FPS), round(ramp_s * FPS), round(hold_s * FPS)
    down = list(np.linspace(5.0, bottom_deg, ramp + 1))
    return [5.0] * rest + down + [bottom_deg] * hold + down[::-1] + [5.0] * rest


def meter_over(profile: list[float], cfg: FormConfig | None = None, vis: float = 0.95) -> FormMeter:
    m = FormMeter(cfg or FormConfig())
    for i, deg in enumerate(profile):
        m.add(i / FPS, squat_pose(deg, vis))
    return m


def test_a_skeletons_angles_are_what_it_was_drawn_with() -> None:
    lm = squat_pose(100.0)[None].astype(np.float64)
    f = body.fields_of(lm[..., :2], lm[..., 3], lm[..., 1])
    assert f["knee"][0] == pytest.approx(knee_angle(100.0), abs=0.01)
    assert f["thigh"][0] == pytest.approx(10.0, abs=0.01)  # 10 degrees below level


def test_a_held_squat_is_timed_and_measured() -> None:
    profile = squat_profile(100.0, hold_s=0.4, ramp_s=1.0)
    m = meter_over(profile)
    n = len(profile)
    r = m.measure("squat", 0.6, (n - 9) / FPS, (n - 1) / FPS)
    turn = (24 + 31) / 2 / FPS  # the bottom is reached at frame 24 and left after frame 31: the hold's middle
    assert r.turn_t == pytest.approx(turn, abs=0.5 / FPS)
    assert r.to_turn_s == pytest.approx(1.0, abs=1.0 / FPS) and r.back_s == pytest.approx(1.0, abs=1.0 / FPS)
    assert r.hold_s == pytest.approx(7 / FPS, abs=1.0 / FPS)
    assert r.joint == "knee" and r.turn_deg == pytest.approx(knee_angle(100.0), abs=0.5)
    assert r.start_deg == pytest.approx(knee_angle(5.0), abs=0.5)
    assert r.travel_deg == pytest.approx(r.start_deg - r.turn_deg, abs=0.11)  # each rounded to tenths as published
    assert r.full is True and r.short == [] and r.unmeasured is None


def test_a_squat_15_degrees_above_parallel_falls_short_of_the_default_depth() -> None:
    profile = squat_profile(75.0, hold_s=0.0)
    r = meter_over(profile).measure("squat", 0.6, (len(profile) - 9) / FPS, (len(profile) - 1) / FPS)
    assert r.full is False and [s.key for s in r.short] == ["thigh_min"]
    assert r.short[0].value == pytest.approx(-15.0, abs=0.5) and r.short[0].limit == -10.0
    assert dict(r)["short"][0].model_dump() == {"key": "thigh_min", "value": pytest.approx(-15.0, abs=0.5), "limit": -10.0}


def test_thresholds_come_from_config_per_exercise() -> None:
    cfg = parse({"form": {"full": {"squat": {"thigh_min": -20, "knee_max": 70}}}}).form
    assert cfg.full["pushup"].elbow_max == 90.0  # the others keep their defaults
    profile = squat_profile(75.0, hold_s=0.0)
    span = (0.6, (len(profile) - 9) / FPS, (len(profile) - 1) / FPS)
    r = meter_over(profile, cfg).measure("squat", *span)
    assert r.full is False and [s.key for s in r.short] == ["knee_max"]  # thighs at -15 pass -20; the knee's 80 degrees fail 70
    nothing = parse({"form": {"full": {"squat": {}}}}).form
    assert meter_over(profile, nothing).measure("squat", *span).full is True


def test_a_joint_not_seen_is_left_out_not_guessed() -> None:
    profile = squat_profile(100.0)
    r = meter_over(profile, vis=0.3).measure("squat", 0.6, (len(profile) - 9) / FPS, (len(profile) - 1) / FPS)
    assert r.turn_t is None and r.turn_deg is None and r.full is None and r.to_turn_s is None
    assert r.unmeasured == "knee not seen (visibility under 0.5)"
    assert FormMeter(FormConfig()).measure("squat", 0.0, 1.0, 1.0).unmeasured.startswith("nobody seen")


def test_a_short_rep_unseen_at_its_turn_is_not_judged() -> None:
    profile = squat_profile(100.0, hold_s=0.4)
    m = FormMeter(FormConfig())
    for i, deg in enumerate(profile):
        m.add(i / FPS, squat_pose(deg, 0.3 if 20 <= i <= 32 else 0.95))  # the bottom not seen
    r = m.measure("squat", 0.6, (len(profile) - 9) / FPS, (len(profile) - 1) / FPS)
    assert r.full is None and r.unmeasured == "knee not seen at the turn"


# -- through the counter -------------------------------------------------------------------------------------------------

LABELS = ("neither", "squat_up", "squat_down")


def one_hot(label: str) -> np.ndarray:
    p = np.full(len(LABELS), 0.05)
    p[LABELS.index(label)] = 0.9
    return p / p.sum()


def count(profiles: list[list[float]], form: FormConfig, counter_cfg: CounterConfig | None = None, shown: float = 1.0,
          feet: float = 0.0, feet_vis: float = 0.95) -> list:
    """Reps of the given depths, each phase labelled from its depth as a classifier would; the skeleton shows
    ``shown`` of each depth (less: a classifier that takes a flicker for a rep), its feet ``feet`` of the canvas
    apart at the deepest (a jack's jump apart) and seen at ``feet_vis``."""
    labels = LabelSet.of(LABELS, None)
    voter, meter = Voter(LABELS, VotingConfig()), FormMeter(form)
    counter = RepCounter(labels, counter_cfg or CounterConfig(), form=meter)
    events: list = []
    i = 0
    for profile in profiles:
        for deg in profile:
            t = i / FPS
            pose = squat_pose(5.0 + shown * (deg - 5.0))
            pose[[L_AN, R_AN], 0] += np.array([-0.5, 0.5]) * feet * (deg - 5.0) / 95.0
            pose[[L_AN, R_AN], 3] = feet_vis
            meter.add(t, pose)
            events += counter.update(voter.update(one_hot("squat_down" if deg >= 55 else "squat_up")), t, i)
            i += 1
    return events + counter.stop(i / FPS, i)


def test_a_short_rep_is_counted_and_flagged_by_default() -> None:
    events = count([squat_profile(100.0), squat_profile(75.0), squat_profile(100.0)], FormConfig())
    reps = [e for e in events if isinstance(e, RepEvent)]
    assert [r.full for r in reps] == [True, False, True] and reps[1].short[0].key == "thigh_min"
    end = next(e for e in events if isinstance(e, SetEndEvent))
    assert end.reps == 3 and end.full_reps == 2 and end.avg_turn_deg == pytest.approx(
        np.mean([r.turn_deg for r in reps]), abs=0.06)
    assert end.avg_to_turn_s is not None and end.avg_travel_deg is not None


def test_with_count_short_off_a_short_rep_is_a_partial_with_its_reason() -> None:
    events = count([squat_profile(100.0), squat_profile(75.0)], FormConfig(count_short=False))
    reps = [e for e in events if isinstance(e, RepEvent)]
    partials = [e for e in events if isinstance(e, PartialRepEvent)]
    assert len(reps) == 1 and len(partials) == 1
    p = partials[0]
    assert p.reason == "short" and p.full is False and p.short[0].key == "thigh_min" and p.joint == "knee"
    end = next(e for e in events if isinstance(e, SetEndEvent))
    assert end.reps == 1 and end.partials == 1


def test_a_rep_whose_joint_barely_moved_is_no_rep_with_min_travel() -> None:
    """Phases that swing while the knee moves 9 degrees (a pose held, a flicker) are a partial with reason still;
    a real squat beside it counts; with the key at 0 both count, the flicker's travel in its event."""
    flicker = [squat_profile(100.0), squat_profile(100.0)]
    cfg = CounterConfig(per_exercise={"squat": {"min_travel_deg": 20.0}})
    events = count(flicker[:1], FormConfig(), cfg) + count(flicker[1:], FormConfig(), cfg, shown=0.07)
    reps = [e for e in events if isinstance(e, RepEvent)]
    partials = [e for e in events if isinstance(e, PartialRepEvent)]
    assert len(reps) == 1 and reps[0].travel_deg is not None and reps[0].travel_deg > 100
    assert [p.reason for p in partials] == ["still"] and partials[0].travel_deg == pytest.approx(0.07 * 95 * 4 / 3, abs=1.0)
    off = [e for e in count(flicker[1:], FormConfig(), CounterConfig(), shown=0.07) if isinstance(e, RepEvent)]
    assert len(off) == 1 and off[0].unmeasured == "no knee movement found" and off[0].travel_deg == partials[0].travel_deg


def test_a_rep_whose_legs_stay_together_is_no_rep_with_min_legs() -> None:
    """min_legs_deg 15: the same phases count where the feet jump apart (the legs open 50 degrees and more at the
    turn), and are a partial with reason legs_still where they stay together or are not seen; 0 counts all three."""
    cfg = CounterConfig(per_exercise={"squat": {"min_legs_deg": 15.0}})
    pose = squat_pose(100.0)[None].astype(np.float64)
    pose[0, [L_AN, R_AN], 0] += [-0.15, 0.15]
    assert body.fields_of(pose[..., :2], pose[..., 3], pose[..., 1])["legs"][0] > 50.0
    apart = count([squat_profile(100.0)], FormConfig(), cfg, feet=0.3)
    together = count([squat_profile(100.0)], FormConfig(), cfg)
    unseen = count([squat_profile(100.0)], FormConfig(), cfg, feet=0.3, feet_vis=0.2)
    assert len([e for e in apart if isinstance(e, RepEvent)]) == 1
    for events in (together, unseen):
        assert not [e for e in events if isinstance(e, RepEvent)]
        assert [e.reason for e in events if isinstance(e, PartialRepEvent)] == ["legs_still"]
    off = CounterConfig(per_exercise={})
    assert all(len([e for e in count([squat_profile(100.0)], FormConfig(), off, feet=f, feet_vis=v) if isinstance(e, RepEvent)]) == 1
               for f, v in ((0.3, 0.95), (0.0, 0.95), (0.3, 0.2)))


def test_a_rep_without_measures_is_the_schema_1_payload() -> None:
    plain = RepEvent(t=1.0, frame=1, exercise="squat")
    assert "full" not in plain.to_dict() and "turn_t" not in plain.to_json()
    end = SetEndEvent(t=1.0, frame=1, reps=2)
    assert "avg_hold_s" not in end.to_dict() and "full_reps" not in end.to_dict()


@pytest.mark.parametrize(("yaml", "message"), [
    ("form:\n  full:\n    pushups: {elbow_max: 90}\n", "form.full: pushups is not an exercise"),
    ("form:\n  full:\n    squat: {thigh_min: -95}\n", "form.full.squat.thigh_min: input should be greater than or equal to -90"),
    ("form:\n  full:\n    pushup: {elbow_max: 200}\n", "form.full.pushup.elbow_max: input should be less than or equal to 180"),
    ("form:\n  full:\n    pushup: {depth: 3}\n", "form.full.pushup.depth: unknown key"),
    ("form:\n  min_visibility: 2\n", "form.min_visibility: input should be less than or equal to 1"),
    ("counter:\n  per_exercise:\n    curl: {min_travel_deg: -5}\n",
     "counter.per_exercise.curl.min_travel_deg: input should be greater than or equal to 0"),
    ("counter:\n  per_exercise:\n    jumping_jack: {min_legs_deg: 200}\n",
     "counter.per_exercise.jumping_jack.min_legs_deg: input should be less than or equal to 180"),
    ("counter:\n  min_set_reps: 0\n", "counter.min_set_reps: input should be greater than or equal to 1"),
])
def test_bad_thresholds_are_one_line_naming_the_key(tmp_path, yaml: str, message: str) -> None:
    cfg = tmp_path / "config.yaml"
    cfg.write_text(yaml)
    line = one_line_error(run_cli("check-config", str(cfg)))
    assert message in line, line



def test_matching_pairs_closest_first_one_to_one() -> None:
    from homegym.measure.form_check import match

    # a rep before the first labelled turn must not push every later rep onto the next label
    assert match([0.27, 1.2, 2.07, 2.97], [1.2, 2.1, 2.97]) == [(1, 0), (2, 1), (3, 2)]
    assert match([5.0], [3.0]) == []


@pytest.mark.slow
def test_form_check_times_real_reps_against_their_labelled_turns(shared_data) -> None:
    """Three real clips of three exercises: every rep matched to its labelled turn, as docs/form.md reports for all."""
    import json

    r = run_cli("form-check", str(shared_data / "clips.csv"), "--clips", "vengaza_squats", "kratika_squat", "divyansh_pullup",
                "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    overall = report["overall"]
    assert overall["reps"] == 18 and overall["matched"] >= 17 and overall["unmatched_reps"] == 0
    assert overall["timing"]["median"] <= 0.15 and overall["timing"]["p95"] <= 0.4
    assert overall["side_angle"]["n"] >= 15 and overall["side_angle"]["median"] <= 8.0
    assert {c["clip"] for c in report["clips"]} == {"vengaza_squats", "kratika_squat", "divyansh_pullup"}
    bad = run_cli("form-check", str(shared_data / "clips.csv"), "--clips", "no_such_clip")
    assert "--clips: no_such_clip is not a rep clip" in one_line_error(bad)


@pytest.mark.slow
def test_form_check_scores_a_model_only_on_the_exercises_it_knows(shared_data) -> None:
    """The image model counts push-ups and squats: a pull-up clip is scored as other, as eval scores it, and left out."""
    import json
    from pathlib import Path

    image = Path(__file__).parents[1] / "daemon" / "models" / "image"
    r = run_cli("form-check", str(shared_data / "clips.csv"), "--model", str(image), "--clips", "vengaza_squats",
                "divyansh_pullup", "--json")
    assert r.returncode == 0, r.stderr[-2000:]
    report = json.loads(r.stdout)
    assert [c["clip"] for c in report["clips"]] == ["vengaza_squats"] and list(report["by_exercise"]) == ["squat"]
    assert "divyansh_pullup: a pullup clip, which this model does not count: left out" in r.stderr
