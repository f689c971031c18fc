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
    if cfg.pose.model != "lite":  # the lighter model beside it, as a user would switch to it
        runs |= {("lite", "moving"): settings("lite", "auto"), ("lite", "still"): settings("lite", "auto")}
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

    def rounds_of(key: tuple[str, str]) -> str:
        return f"rounds {', '.join(f'{v:.1f}' for v in shares[key])} %"

    where = f"{seconds:.0f} s x {rounds}"
    report.add(Figure("live", f"homegym run, the baseline (pose.model full, f32, no quiet rest), {SCENES['moving']}, {where}",
                      med[("baseline", "moving")], "% of one core", note=rounds_of(("baseline", "moving")),
                      key="live/lighter/baseline/moving"))
    moving = med[("default", "moving")]
    report.add(Figure("live", f"homegym run, {this}, {SCENES['moving']}, {where}", moving, "% of one core",
                      ratio=med[("baseline", "moving")] / moving if moving else None,
                      note=f"the baseline's CPU over this; goal at least {LIGHTER_GOAL:g} on a CPU with bf16 ({cpu}); "
                      + rounds_of(("default", "moving")), key="live/lighter/default/moving"))
    still = med[("default", "still")]
    report.add(Figure("live", f"homegym run, {this}, {SCENES['still']}, {where}", still, "% of one core",
                      ratio=still / moving if moving else None,
                      note=f"against the person moving; goal at most {STILL_GOAL:.2f}; " + rounds_of(("default", "still")),
                      key="live/lighter/default/still"))
    if ("lite", "moving") in med:
        lite = med[("lite", "moving")]
        rest = "on" if cfg.rest.enabled else "off"
        how = f"pose.model lite, pose.precision auto ({pose_precision('auto', bf16, 'lite')} here), rest {rest}"
        report.add(Figure("live", f"homegym run, {how}, {SCENES['moving']}, {where}", lite, "% of one core",
                          ratio=med[("baseline", "moving")] / lite if lite else None,
                          note=f"the baseline's CPU over this; {cpu}; " + rounds_of(("lite", "moving")), key="live/lighter/lite/moving"))
        report.add(Figure("live", f"homegym run, {how}, {SCENES['still']}, {where}", med[("lite", "still")], "% of one core",
                          ratio=med[("lite", "still")] / lite if lite else None,
                          note="against the person moving; " + rounds_of(("lite", "still")), key="live/lighter/lite/still"))
    report.add(Figure("live", f"homegym run, the baseline, {SCENES['nobody']}, {where}", med[("baseline", "nobody")],
                      "% of one core", note=rounds_of(("baseline", "nobody")), key="live/lighter/baseline/nobody"))
    nobody = med[("default", "nobody")]
    report.add(Figure("live", f"homegym run, {this}, {SCENES['nobody']}, {where}", nobody, "% of one core",
                      ratio=nobody / med[("baseline", "nobody")] if med[("baseline", "nobody")] else None,
                      note="against the baseline; goal at most 1; " + rounds_of(("default", "nobody")),
                      key="live/lighter/default/nobody"))
