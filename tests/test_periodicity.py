"""Periodicity fused with the classifier, on made-up features of a repeated movement."""

from __future__ import annotations

import numpy as np
import pytest

from homegym.core.labels import LabelSet
from homegym.daemon.config.settings import Config, PeriodicityConfig
from homegym.daemon.counting.chain import replay
from homegym.daemon.counting.periodicity import Periodicity

LABELS = ("neither", "pushup_up", "pushup_down", "squat_up", "squat_down")
FPS = 15.0
DIM = 64


def depth_curve(reps: int, period_s: float = 2.0, hold_s: float = 2.0) -> np.ndarray:
    """0 at the top, 1 at the bottom: a hold, ``reps`` smooth cycles, a hold."""
    hold = np.zeros(int(hold_s * FPS))
    t = np.arange(int(reps * period_s * FPS)) / FPS
    return np.concatenate([hold, (1 - np.cos(2 * np.pi * t / period_s)) / 2, hold])


def features(depth: np.ndarray, seed: int = 0, sign: float = 1.0) -> np.ndarray:
    """A person repeating a movement: one direction of feature space follows the depth, the rest is noise."""
    rng = np.random.default_rng(seed)
    direction = rng.normal(size=DIM)
    direction /= np.linalg.norm(direction)
    return (rng.normal(size=DIM) + sign * 3.0 * depth[:, None] * direction + 0.3 * rng.normal(size=(len(depth), DIM))).astype(np.float32)


def unsure_classifier(depth: np.ndarray) -> np.ndarray:
    """Knows the top and leans the right way, but never trusts a bottom enough to vote it (0.55 < enter)."""
    p = np.zeros((len(depth), len(LABELS)))
    p[:, 0] = 0.1
    p[:, 1] = 0.6 - 0.25 * depth
    p[:, 2] = 0.3 + 0.25 * depth
    return p


def standing_classifier(n: int) -> np.ndarray:
    """Sees someone standing throughout (a curl, a press): squat_up, whatever the arms do."""
    p = np.full((n, len(LABELS)), 0.05)
    p[:, 3] = 0.8
    return p


def count(probs: np.ndarray, feats: np.ndarray | None, enabled: bool = True) -> int:
    cfg = Config().with_values("periodicity", enabled=enabled)
    frames = [(i, i / FPS, probs[i], None if feats is None else feats[i]) for i in range(len(probs))]
    return replay(LABELS, cfg, frames).total


@pytest.mark.parametrize("reps", [3, 5, 8])
def test_the_swing_counts_the_reps_an_unsure_classifier_misses(reps) -> None:
    depth = depth_curve(reps)
    probs, feats = unsure_classifier(depth), features(depth, seed=reps)
    assert count(probs, feats, enabled=False) == 0
    assert count(probs, feats) == reps
    assert count(probs, None) == 0, "without features (a model without a pooled layer) the classifier counts alone"


def test_the_bottom_is_the_end_of_the_swing_the_classifier_calls_down() -> None:
    depth = depth_curve(5)
    probs = unsure_classifier(depth)
    for sign in (1.0, -1.0):  # a principal component's sign is arbitrary
        per = Periodicity(LabelSet.of(LABELS), DIM, PeriodicityConfig())
        out = np.array([per.update(p, f, i / FPS) for i, (p, f) in enumerate(zip(probs, features(depth, 3, sign)))])
        fused = slice(int(4 * FPS), None)  # once the window holds a rep
        bottoms, tops = depth[fused] > 0.9, depth[fused] < 0.1
        assert out[fused][bottoms, 2].mean() > 0.7 and out[fused][tops, 1].mean() > 0.7
        assert np.allclose(out.sum(axis=1), 1.0), "the phase mass is split, not made up"
        assert np.allclose(out[:, 0], probs[:, 0]) and np.allclose(out[:, 3:], 0.0)


def test_a_swing_the_classifier_does_not_share_counts_nothing() -> None:
    depth = depth_curve(6)
    feats = features(depth, seed=7)
    probs = standing_classifier(len(depth))
    per = Periodicity(LabelSet.of(LABELS), DIM, PeriodicityConfig())
    for i, (p, f) in enumerate(zip(probs, feats)):
        assert np.array_equal(per.update(p, f, i / FPS), p)  # no phase change seen: passed through as it is
    assert count(probs, feats) == 0
    # A classifier whose phases change, but out of step with the swing, is not trusted either.
    rng = np.random.default_rng(1)
    noisy = unsure_classifier(rng.permutation(depth))
    per = Periodicity(LabelSet.of(LABELS), DIM, PeriodicityConfig())
    passed = [np.array_equal(per.update(p, f, i / FPS), p) for i, (p, f) in enumerate(zip(noisy, feats))]
    assert np.mean(passed) > 0.95


def test_the_window_forgets_what_lies_behind_it() -> None:
    """A long pause, then a set: the swing of the set decides, not what came before the window."""
    depth = np.concatenate([np.zeros(int(30 * FPS)), depth_curve(4)])
    rng = np.random.default_rng(5)
    feats = features(depth, seed=5)
    feats[: int(30 * FPS)] += 5.0 * rng.normal(size=DIM).astype(np.float32)  # the room looked different then
    assert count(unsure_classifier(depth), feats) == 4


def test_a_reload_starts_a_new_window() -> None:
    per = Periodicity(LabelSet.of(LABELS), DIM, PeriodicityConfig())
    depth = depth_curve(3)
    for i, (p, f) in enumerate(zip(unsure_classifier(depth), features(depth))):
        per.update(p, f, i / FPS)
    assert per.last is not None
    per.reconfigure(PeriodicityConfig(window_s=3))
    assert per.last is None and per.cfg.window_s == 3


def test_the_pipeline_follows_the_config_and_a_reload() -> None:
    """The shipped model exposes its pooled features, so the pipeline tracks the swing; a reload that
    turns periodicity off, or changes it, takes effect (with a new window)."""
    from homegym.daemon.classify.factory import IMAGE_MODEL_DIR
    from homegym.daemon.config.settings import ModelConfig
    from homegym.daemon.pipeline.pipeline import Pipeline

    cfg = Config(model=ModelConfig(path=str(IMAGE_MODEL_DIR), cache_dir=None))  # an image classifier's pooled features
    pipe = Pipeline.open(cfg)
    assert isinstance(pipe.chain.periodicity, Periodicity) and pipe.chain.periodicity.dim == 1280
    pipe.reconfigure(cfg.with_values("periodicity", enabled=False))
    assert pipe.chain.periodicity is None
    pipe.reconfigure(cfg.with_values("periodicity", window_s=4))
    assert pipe.chain.periodicity is not None and pipe.chain.periodicity.cfg.window_s == 4


def test_the_window_is_the_last_seconds_since_the_last_cut_read_in_place() -> None:
    """The doubled ring hands out exactly the frames a copy of the last ``window_s`` seconds would hold,
    across wrap-arounds, dropped frames (uneven times) and a cut."""
    cfg = PeriodicityConfig(window_s=2.0)
    per = Periodicity(LabelSet.of(LABELS), DIM, cfg)
    rng = np.random.default_rng(3)
    times = np.cumsum(rng.choice([1 / 60, 1 / 30, 0.2], size=600, p=[0.6, 0.3, 0.1]))
    feats = rng.normal(size=(len(times), DIM)).astype(np.float32)
    cut = 400
    feats[cut:] += 50.0  # another picture: the window starts again here
    probs = unsure_classifier(np.zeros(len(times)))
    for i, (p, f, t) in enumerate(zip(probs, feats, times)):
        per.update(p, f, float(t))
        first = cut if i >= cut else 0
        expect = [j for j in range(first, i + 1) if times[j] >= t - cfg.window_s]
        window = per._window(float(t))
        assert np.array_equal(per._t[window], times[expect])
        assert np.array_equal(per._x[window], feats[expect])


def test_percentiles_are_numpys() -> None:
    from homegym.daemon.counting.periodicity import _percentiles

    rng = np.random.default_rng(0)
    for n in (1, 2, 8, 97, 360):
        v = rng.normal(size=n)
        assert np.allclose(_percentiles(v, Periodicity.RANGE), np.percentile(v, Periodicity.RANGE))
