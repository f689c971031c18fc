"""Voting and counting: unit cases and property tests on phase sequences."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from homegym.core.labels import LabelSet
from homegym.daemon.config.settings import CounterConfig, VotingConfig
from homegym.daemon.counting.counter import RepCounter
from homegym.daemon.counting.events import PartialRepEvent, RepEvent, SetEndEvent
from homegym.daemon.counting.voting import Voter

LABELS = ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")
FPS = 30.0


def probs(label: str, conf: float = 0.9) -> np.ndarray:
    p = np.full(len(LABELS), (1 - conf) / (len(LABELS) - 1))
    p[LABELS.index(label)] = conf
    return p


def run(frames: list[str], vcfg: VotingConfig | None = None, ccfg: CounterConfig | None = None, labels=LABELS):
    voter = Voter(labels, vcfg or VotingConfig())
    ccfg = ccfg or CounterConfig(min_rep_s=0.2, max_rep_s=60, set_timeout_s=86400)
    counter = RepCounter(LabelSet.of(labels, ccfg.exercise), ccfg)
    events = []
    for i, lab in enumerate(frames):
        p = np.full(len(labels), 0.1 / (len(labels) - 1))
        p[labels.index(lab)] = 0.9
        events += counter.update(voter.update(p), i / FPS, i)
    events += counter.stop(len(frames) / FPS, len(frames))
    return events, counter


def reps(events) -> list[RepEvent]:
    return [e for e in events if isinstance(e, RepEvent)]


def seq(*segments: tuple[str, int]) -> list[str]:
    return [lab for lab, n in segments for _ in range(n)]


def test_three_clean_push_ups_then_a_set_end() -> None:
    frames = seq(("pushup_up", 20), ("pushup_down", 15), ("pushup_up", 20), ("pushup_down", 15), ("pushup_up", 20),
                 ("pushup_down", 15), ("pushup_up", 20))
    events, counter = run(frames)
    r = reps(events)
    assert [(e.exercise, e.rep, e.set, e.total) for e in r] == [("pushup", i, 1, i) for i in (1, 2, 3)]
    # From leaving the top to regaining it: here the 15 frames of the bottom, 0.5 s.
    assert all(0.8 < e.confidence <= 1 and abs(e.duration_s - 0.5) < 0.05 for e in r)
    end = [e for e in events if isinstance(e, SetEndEvent)]
    assert len(end) == 1 and end[0].reps == 3 and end[0].reason == "stop"
    assert counter.by_exercise == {"pushup": 3, "squat": 0}


def test_partial_rep_is_reported_not_counted() -> None:
    # A shallow dip: the bottom's probability rises to ~0.45, never enough to be voted.
    voter = Voter(LABELS, VotingConfig())
    counter = RepCounter(LabelSet.of(LABELS), CounterConfig())
    events = []
    trace = [probs("pushup_up")] * 20 + [0.5 * probs("pushup_up") + 0.5 * probs("pushup_down")] * 10 + [probs("pushup_up")] * 20
    for i, p in enumerate(trace):
        events += counter.update(voter.update(p), i / FPS, i)
    assert not reps(events)
    partial = [e for e in events if isinstance(e, PartialRepEvent)]
    assert len(partial) == 1 and partial[0].reason == "no_down"


def test_a_sets_partial_movements_are_counted_in_its_end() -> None:
    """A full rep, a shallow dip of the same exercise, a full rep: the set ends with 2 reps and 1 partial."""
    voter = Voter(LABELS, VotingConfig())
    counter = RepCounter(LabelSet.of(LABELS), CounterConfig())
    up, down = [probs("pushup_up")] * 20, [probs("pushup_down")] * 10
    dip = [0.5 * probs("pushup_up") + 0.5 * probs("pushup_down")] * 10
    events = []
    for i, p in enumerate(up + down + up + dip + up + down + up):
        events += counter.update(voter.update(p), i / FPS, i)
    events += counter.stop(200 / FPS, 200)
    end = [e for e in events if isinstance(e, SetEndEvent)]
    assert len(reps(events)) == 2 and len(end) == 1 and (end[0].reps, end[0].partials) == (2, 1)


def test_rep_duration_bounds_and_set_timeout_and_exercise_switch() -> None:
    cfg = CounterConfig(min_rep_s=1.0, max_rep_s=3.0, set_timeout_s=2.0, per_exercise={})  # the section's bounds, no exercise's own
    fast = seq(("squat_up", 10), ("squat_down", 6), ("squat_up", 10))  # ~0.4 s: too fast
    events, _ = run(fast, ccfg=cfg)
    assert not reps(events) and [e.reason for e in events if isinstance(e, PartialRepEvent)] == ["too_fast"]
    frames = seq(("squat_up", 10), ("squat_down", 40), ("squat_up", 100),  # a rep, then a pause > 2 s
                 ("squat_down", 40), ("squat_up", 20),  # a rep in a second set
                 ("pushup_up", 20), ("pushup_down", 40), ("pushup_up", 20))  # switch exercise
    events, counter = run(frames, ccfg=cfg)
    assert [(e.exercise, e.set, e.rep) for e in reps(events)] == [("squat", 1, 1), ("squat", 2, 1), ("pushup", 3, 1)]
    assert [e.reason for e in events if isinstance(e, SetEndEvent)] == ["pause", "exercise_change", "stop"]


def test_bottom_first_counts_a_rep_that_starts_at_its_bottom_and_one_whose_bottom_was_the_other_exercise() -> None:
    """Someone gets into position and goes straight down (no top voted before the first bottom), and a bottom the
    fold still gave to the exercise before: counted with counter.bottom_first, left out without it."""
    frames = seq(("neither", 20), ("pushup_down", 15), ("pushup_up", 20), ("pushup_down", 15), ("pushup_up", 20),
                 ("squat_up", 20), ("squat_down", 15), ("pushup_up", 20))
    strict = CounterConfig(min_rep_s=0.2, max_rep_s=60, set_timeout_s=86400, bottom_first=False)
    events, counter = run(frames, ccfg=strict)
    assert counter.by_exercise == {"pushup": 1, "squat": 0}
    events, counter = run(frames, ccfg=strict.model_copy(update={"bottom_first": True}))
    assert counter.by_exercise == {"pushup": 3, "squat": 0}
    r = reps(events)
    assert abs(r[0].duration_s - 0.5) < 0.1  # timed from the bottom's vote, at most the bottom's length
    # a bottom alone (the clip ends, or the person walks off) is still no rep
    events, counter = run(seq(("neither", 20), ("squat_down", 15), ("neither", 30)), ccfg=strict.model_copy(update={"bottom_first": True}))
    assert counter.total == 0


def test_seed_style_labels_take_the_exercise_from_config() -> None:
    labels = ("neither", "up", "down")
    frames = seq(("up", 20), ("down", 20), ("up", 20))
    events, _ = run(frames, ccfg=CounterConfig(exercise="squat", min_rep_s=0.2), labels=labels)
    assert [e.exercise for e in reps(events)] == ["squat"]


def expected_count(segments: list[tuple[str, int]], bottom_first: bool = False) -> int:
    """The rule, stated plainly: an up counts when this exercise's top and then its bottom came before it; with
    ``bottom_first``, when any bottom came before it since the last top."""
    count, top, down = 0, None, False
    for lab, _ in segments:
        if lab == "neither":
            continue
        ex, ph = lab.split("_")
        if ph == "up":
            count += (top == ex or bottom_first) and down
            top, down = ex, False
        elif top == ex or bottom_first:
            top, down = ex, True
        else:
            top, down = None, False
    return count


segment = st.tuples(st.sampled_from(["neither", "pushup_up", "pushup_down", "squat_up", "squat_down"]), st.integers(12, 45))


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 8), st.integers(12, 40), st.integers(12, 40))
def test_k_clean_cycles_count_exactly_k(k: int, up: int, down: int) -> None:
    frames = seq(("squat_up", up), *[s for _ in range(k) for s in (("squat_down", down), ("squat_up", up))])
    for vcfg in (VotingConfig(), VotingConfig(method="window", window=5)):
        assert len(reps(run(frames, vcfg)[0])) == k


@settings(max_examples=150, deadline=None)
@given(st.lists(segment, min_size=1, max_size=12), st.booleans())
def test_count_follows_the_rule_for_any_clean_sequence(segments, bottom_first: bool) -> None:
    """Covers 'a down without a return to up never counts': a trailing down adds nothing; with counter.bottom_first
    on and off."""
    merged: list[tuple[str, int]] = []
    for lab, n in segments:  # adjacent equal labels are one segment
        if merged and merged[-1][0] == lab:
            merged[-1] = (lab, merged[-1][1] + n)
        else:
            merged.append((lab, n))
    ccfg = CounterConfig(min_rep_s=0.2, max_rep_s=60, set_timeout_s=86400, bottom_first=bottom_first)
    assert len(reps(run(seq(*merged), ccfg=ccfg)[0])) == expected_count(merged, bottom_first)


@settings(max_examples=150, deadline=None)
@given(st.integers(1, 6), st.lists(st.tuples(st.integers(0, 10_000), st.sampled_from(LABELS), st.integers(1, 2)), max_size=8))
@example(1, [(28, "pushup_up", 2), (406, "pushup_up", 2)])  # two flickers a frame apart: four of five frames up
@example(1, [(0, "squat_down", 2)])  # a flicker as long as the dwell at the stream's very start: no bottom, no rep
def test_flicker_shorter_than_the_dwell_never_changes_the_count(k: int, flickers) -> None:
    frames = seq(("pushup_up", 25), *[s for _ in range(k) for s in (("pushup_down", 25), ("pushup_up", 25))])
    no_smoothing = VotingConfig(method="window", window=1, min_dwell=3)  # the dwell alone must hold
    base = list(frames)
    for pos, lab, n in flickers:
        start = pos % len(frames)
        for i in range(start, min(start + n, len(frames))):
            frames[i] = lab
    changed = "".join("x" if a != b else " " for a, b in zip(frames, base))
    longest = max((len(run) for run in changed.split()), default=0)
    assume(longest < 3)  # flickers that touch make one longer run: that is a real phase, not a flicker
    assert len(reps(run(frames, no_smoothing)[0])) == k
    gaps = [len(g) for g in changed.strip().split("x") if g]
    if min(gaps, default=99) >= 3:  # the default's smoothing remembers a few frames: flickers nearer are one disturbance
        assert len(reps(run(frames)[0])) == k


@settings(max_examples=100, deadline=None)
@given(st.integers(1, 40), st.sampled_from(["pushup_down", "squat_down"]))
def test_a_down_without_a_return_to_up_never_counts(n_down: int, down: str) -> None:
    ex = down.split("_")[0]
    frames = seq((f"{ex}_up", 20), (down, 20 + n_down), ("neither", 30))
    assert not reps(run(frames)[0])


def test_todays_totals_start_again_at_midnight() -> None:
    day = ["2026-11-23"]
    voter, counter = Voter(LABELS, VotingConfig()), RepCounter(LabelSet.of(LABELS), CounterConfig(min_rep_s=0.2), lambda: day[0])
    counter.restore({"squat": 5})
    cycle = seq(("squat_up", 20), ("squat_down", 20), ("squat_up", 20))
    totals = []
    for d in ("2026-11-23", "2026-11-24"):
        day[0] = d
        for i, lab in enumerate(cycle):
            for e in counter.update(voter.update(probs(lab)), i / FPS, i):
                if isinstance(e, RepEvent):
                    totals.append((e.total, e.exercise_total, counter.day))
    assert totals == [(6, 6, "2026-11-23"), (1, 1, "2026-11-24")]


def test_fold_counts_a_bottom_the_model_splits_between_exercises() -> None:
    """A push-up whose bottom reads half pushup_down, half squat_down: unfolded it never counts, folded it does."""
    from homegym.daemon.counting.exercise import ExerciseFold

    labels = ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")
    top, bottom = np.array([0.02, 0.9, 0.04, 0.02, 0.02]), np.array([0.04, 0.06, 0.45, 0.0, 0.45])
    frames = ([top] * 20 + [bottom] * 20) * 3 + [top] * 20

    def count(fold: ExerciseFold | None) -> int:
        voter, counter = Voter(labels, VotingConfig()), RepCounter(LabelSet.of(labels), CounterConfig())
        for i, p in enumerate(frames):
            counter.update(voter.update(fold.update(p) if fold else p), i / 15, i)
        return counter.by_exercise["pushup"]

    assert count(None) == 0 and count(ExerciseFold(LabelSet.of(labels), alpha=0.05)) == 3


def test_fold_switches_exercise_slowly() -> None:
    from homegym.daemon.counting.exercise import ExerciseFold

    labels = ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")
    fold = ExerciseFold(LabelSet.of(labels), alpha=0.1)
    squat = np.array([0.0, 0.1, 0.0, 0.9, 0.0])
    assert fold.update(np.array([0.0, 0.9, 0.1, 0.0, 0.0])).tolist() == [0.0, 0.9, 0.1, 0.0, 0.0]
    out = fold.update(squat)  # one squat frame does not switch the exercise; its mass folds onto push-up's labels
    assert fold.current == "pushup" and out[1] == pytest.approx(1.0)
    for _ in range(30):
        out = fold.update(squat)
    assert fold.current == "squat" and out[3] == pytest.approx(1.0)
    assert not ExerciseFold(LabelSet.of(("neither", "up", "down"), "pushup"), 0.1).active


def test_a_new_source_starts_the_smoothing_and_the_rep_in_progress_afresh() -> None:
    """What one camera or file showed is no evidence about the next: after ``Chain.new_source`` the phase, the smoothing
    and a rep half done are gone (a bottom voted on the old source does not complete a rep on the new), the counts stay."""
    from homegym.daemon.config.settings import Config
    from homegym.daemon.counting.chain import Chain

    chain = Chain(LABELS, None, Config())
    t = 0.0
    for lab, n in (("squat_up", 20), ("squat_down", 20), ("squat_up", 20), ("squat_down", 20)):
        for _ in range(n):
            chain.step(probs(lab), None, t, int(t * FPS))
            t += 1 / FPS
    assert chain.counter.total == 1 and chain.voter.phase is not None
    voter = chain.voter
    chain.new_source()
    assert chain.voter is voter and voter.phase is None, "the same voter (its thresholds kept), its state gone"
    events = [e for lab, n in (("squat_up", 20),) for _ in range(n) for e in chain.step(probs(lab), None, t, 0)[1]]
    assert chain.counter.total == 1 and not [e for e in events if e.type == "rep"], "no rep from the old source's bottom"


def test_an_exercise_switched_off_counts_nothing_and_the_others_count_on() -> None:
    frames = seq(("squat_up", 20), ("squat_down", 20), ("squat_up", 20), ("neither", 40),
                 ("pushup_up", 20), ("pushup_down", 20), ("pushup_up", 20))
    events, counter = run(frames, ccfg=CounterConfig(exercises=["pushup"]))
    assert [e.exercise for e in reps(events)] == ["pushup"] and counter.by_exercise == {"pushup": 1}
    events, counter = run(frames)
    assert [e.exercise for e in reps(events)] == ["squat", "pushup"]


def test_a_pull_up_counts_down_up_down_and_gym_state_shows_where_the_person_is() -> None:
    """The counter works in roles: a pull-up starts hanging (pullup_down) and turns at the top (pullup_up)."""
    labels = ("neither", "pullup_up", "pullup_down")
    frames = seq(("pullup_down", 20), ("pullup_up", 12), ("pullup_down", 20), ("pullup_up", 12), ("pullup_down", 20))
    events, counter = run(frames, labels=labels)
    assert [e.rep for e in reps(events)] == [1, 2]
    up_and_hanging = run(seq(("pullup_down", 20), ("pullup_up", 12)), labels=labels)[1]
    assert up_and_hanging.state()["phase"] == "up" and up_and_hanging.total == 0  # at the top, not back down yet


def test_a_stale_per_label_override_is_refused_in_one_line() -> None:
    from homegym.core.errors import UserError

    with pytest.raises(UserError, match=r"^voting.per_label: pushup_dwn is not a label of this model \(its labels: neither, "):
        Voter(LABELS, VotingConfig(per_label={"pushup_dwn": {"min_dwell": 4}}))


def test_per_exercise_settings_let_jacks_run_fast_while_push_ups_keep_theirs() -> None:
    labels = ("neither", "jumping_jack_up", "jumping_jack_down", "pushup_up", "pushup_down")
    jacks = seq(*[("jumping_jack_down", 8), ("jumping_jack_up", 6)] * 4, ("jumping_jack_down", 8))  # 0.2 s at the turn
    pushups = seq(*[("pushup_up", 8), ("pushup_down", 6)] * 2, ("pushup_up", 8))
    strict = CounterConfig(min_rep_s=0.3, max_rep_s=60, set_timeout_s=86400, per_exercise={})
    events, _ = run(jacks, ccfg=strict, labels=labels)
    assert not reps(events) and {e.reason for e in events if isinstance(e, PartialRepEvent)} == {"too_fast"}
    paced = CounterConfig(min_rep_s=0.3, max_rep_s=60, set_timeout_s=86400, per_exercise={"jumping_jack": {"min_rep_s": 0.1}})
    assert len(reps(run(jacks, ccfg=paced, labels=labels)[0])) == 4
    assert not reps(run(pushups, ccfg=paced, labels=labels)[0])  # push-ups keep the section's 0.3 s


def test_gym_cmd_exercise_takes_every_exercise_of_an_eight_exercise_model() -> None:
    from homegym.core.exercises import EXERCISES
    from homegym.core.labels import order_labels
    from homegym.daemon.config.settings import Config
    from homegym.daemon.counting.chain import Chain

    labels = order_labels({"neither", *(f"{ex}_{p}" for ex in EXERCISES for p in ("up", "down"))})
    chain = Chain(labels, None, Config())
    for ex in (*EXERCISES, "auto"):
        assert chain.command("exercise", ex, 0.0, 0) == []
        assert chain.counter.forced_exercise == (None if ex == "auto" else ex)
    assert chain.command("exercise", "burpee", 0.0, 0) is None and chain.counter.forced_exercise is None


def test_a_set_shorter_than_min_set_reps_is_not_counted_and_a_longer_one_counts_from_its_first_rep() -> None:
    """min_set_reps 2: a lone squat waits and goes to partials as alone when its set ends (a pause, another exercise,
    the end); two push-ups go out together at the second, each with its own time; the totals count only those."""
    cfg = CounterConfig(min_rep_s=0.2, max_rep_s=60, set_timeout_s=2.0, per_exercise={"squat": {"min_set_reps": 2},
                                                                                       "pushup": {"min_set_reps": 2}})
    lone = seq(("squat_up", 10), ("squat_down", 20), ("squat_up", 100))  # a rep, then a pause past set_timeout_s
    pair = seq(("squat_down", 20), ("squat_up", 10), ("pushup_up", 20), ("pushup_down", 20), ("pushup_up", 20),
               ("pushup_down", 20), ("pushup_up", 20))
    events, counter = run(lone + pair, ccfg=cfg)
    alone = [e for e in events if isinstance(e, PartialRepEvent) and e.reason == "alone"]
    assert [(e.exercise, e.set) for e in alone] == [("squat", 0), ("squat", 0)]  # the pause's, then the exercise change's
    assert alone[0].frame < len(lone) < alone[1].frame
    counted = reps(events)
    assert [(e.exercise, e.set, e.rep, e.total) for e in counted] == [("pushup", 1, 1, 1), ("pushup", 1, 2, 2)]
    assert counted[0].t < counted[1].t and events.index(counted[0]) + 1 == events.index(counted[1])  # out together
    assert counter.by_exercise == {"pushup": 2, "squat": 0}
    end = [e for e in events if isinstance(e, SetEndEvent)]
    assert [(e.exercise, e.reps, e.reason) for e in end] == [("pushup", 2, "stop")]
    once = CounterConfig(min_rep_s=0.2, max_rep_s=60, set_timeout_s=2.0, per_exercise={})  # the default: 1
    assert [e.exercise for e in reps(run(lone + pair, ccfg=once)[0])] == ["squat", "squat", "pushup", "pushup"]
