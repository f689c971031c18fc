"""The lighter box: ``homegym run`` live with the shipped pose settings against the baseline of before (the full
landmark model, f32, no quiet rest), with the person moving, standing still and nobody in view.

The runs come in turn, round after round (a shared machine's drift falls on all alike); each figure is the median of
its rounds. Which precision ``pose.precision: auto`` chose on this CPU is said beside the figures: the goal (at least
1.5 times less CPU with the person moving) is set for a CPU with bf16.
"""

from __future__ import annotations

import statistics
from pathlib import Path

from homegym.core.runtime import cpu_has_bf16, make_core, pose_precision

from .live import live_share
from .report import BenchReport, Figure

BASELINE: dict[str, dict] = {"pose": {"model": "full", "precision": "f32"}, "rest": {"enabled": False}}
LIGHTER_GOAL = 1.5  # the baseline's CPU over the default's, the person moving, on a CPU with bf16
STILL_GOAL = 1 / 3  # standing still against moving, the default
SCENES = {"moving": "the person moving", "still": "the person standing still", "nobody": "nobody in view"}


def lighter_figures(report: BenchReport, model: Path, clips: dict[str, Path], cfg, seconds: float, work: Path,
                    rounds: int) -> None:
    """``clips``: the scenes of SCENES; ``cfg``: the configuration measured (its pose and rest sections)."""
    def settings(model: str, precision: str) -> dict[str, dict]:
        return {"pose": {"model": model, "precision": precision}, "rest": cfg.rest.model_dump()}

    mine = settings(cfg.pose.model, cfg.pose.precision)
    runs = {("default", "moving"): mine, ("baseline", "moving"): BASELINE, ("default", "still"): mine,
            ("default", "nobody"): mine, ("baseline", "nobody"): BASELINE}
    lightest = settings("lite", "bf16")  # the lightest stage a user can configure, beside the default
    if mine != lightest:
        runs |= {("lite", "moving"): lightest, ("lite", "still"): lightest}
    shares: dict[tuple[str, str], list[float]] = {k: [] for k in runs}
    for _ in range(rounds):
        for (who, scene), keys in runs.items():
            shares[(who, scene)].append(100 * live_share(model, clips[scene], seconds, work, cfg.pipeline.infer_fps, pose=True,
                                                         settings=keys)[0])
    med = {k: statistics.median(v) for k, v in shares.items()}
    bf16 = cpu_has_bf16(make_core(None))
    chosen = pose_precision(cfg.pose.precision, bf16, cfg.pose.model)
    this = f"pose.model {cfg.pose.model}, pose.precision {cfg.pose.precision} ({chosen} here), rest {'on' if cfg.rest.enabled else 'off'}"
    cpu = f"this CPU {'has' if bf16 else 'lacks'} bf16"
    where = f"{seconds:.0f} s x {rounds}"

    def add(who: str, scene: str, how: str, against: float | None = None, note: str = "", inverse: bool = False) -> None:
        """One run's figure: its median, the ratio to ``against`` (``inverse``: ``against`` over it), its rounds."""
        value = med[(who, scene)]
        divisor = value if inverse else against
        ratio = None if against is None or not divisor else (against / value if inverse else value / against)
        report.add(Figure("live", f"homegym run, {how}, {SCENES[scene]}, {where}", value, "% of one core", ratio=ratio,
                          note=note + f"rounds {', '.join(f'{v:.1f}' for v in shares[(who, scene)])} %",
                          key=f"live/lighter/{who}/{scene}"))

    base_moving, moving = med[("baseline", "moving")], med[("default", "moving")]
    add("baseline", "moving", "the baseline (pose.model full, f32, no quiet rest)")
    add("default", "moving", this, base_moving, f"the baseline's CPU over this; goal at least {LIGHTER_GOAL:g} on a CPU with bf16 "
        f"({cpu}); ", inverse=True)
    add("default", "still", this, moving, f"against the person moving; goal at most {STILL_GOAL:.2f}; ")
    if ("lite", "moving") in med:
        rest = "on" if cfg.rest.enabled else "off"
        how = f"pose.model lite, pose.precision bf16 ({pose_precision('bf16', bf16, 'lite')} here), rest {rest}"
        add("lite", "moving", how, base_moving, f"the baseline's CPU over this; {cpu}; ", inverse=True)
        add("lite", "still", how, med[("lite", "moving")], "against the person moving; ")
    add("baseline", "nobody", "the baseline")
    add("default", "nobody", this, med[("baseline", "nobody")], "against the baseline; goal at most 1; ")
