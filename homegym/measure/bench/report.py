"""A bench run's figures, the machine they were measured on, and the frames they are measured with."""

from __future__ import annotations

import itertools
import json
import logging
import os
import platform
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from homegym.core.errors import UserError
from homegym.core.framing import Framer, Framing
from homegym.core.video import iter_frames, open_video

log = logging.getLogger(__name__)


@dataclass
class Figure:
    group: str  # model, pipeline, seed, live, latency
    name: str
    value: float | None
    unit: str
    p50_ms: float | None = None
    p95_ms: float | None = None
    ratio: float | None = None  # against the baseline named in ``note``
    note: str = ""
    key: str = ""  # a stable name, "group/what[/variant...]", for tools and tests: the display name may change


@dataclass
class BenchReport:
    machine: dict
    figures: list[Figure] = field(default_factory=list)

    def add(self, f: Figure) -> Figure:
        self.figures.append(f)
        log.info("%s / %s: %s %s%s", f.group, f.name, "–" if f.value is None else f"{f.value:.4g}", f.unit,
                 f" (x{f.ratio:.2f} {f.note})" if f.ratio is not None else (f" ({f.note})" if f.note else ""))
        return f

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=1)

    def markdown(self) -> str:
        def n(v, fmt="{:.1f}"):
            return "–" if v is None else fmt.format(v)

        lines = [f"Machine: {self.machine['cpu']} ({self.machine['cores']} cores), OpenVINO {self.machine['openvino']}, "
                 f"devices {', '.join(self.machine['devices'])}", "",
                 "| figure | what | value | p50 ms | p95 ms | ratio | against |", "|---|---|---|---|---|---|---|"]
        for f in self.figures:
            lines.append(f"| {f.group} | {f.name} | {n(f.value)} {f.unit} | {n(f.p50_ms, '{:.2f}')} | {n(f.p95_ms, '{:.2f}')} | "
                         f"{n(f.ratio, '{:.2f}')} | {f.note} |")
        return "\n".join(lines)


def machine(core) -> dict:
    cpu = platform.processor() or ""
    try:
        lines = Path("/proc/cpuinfo").read_text().splitlines()
        cpu = next(line.split(":", 1)[1].strip() for line in lines if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    import openvino as ov

    return {"cpu": cpu, "cores": os.cpu_count(), "openvino": ov.__version__, "devices": list(core.available_devices),
            "python": platform.python_version()}


def percentiles(lat: list[float]) -> tuple[float | None, float | None]:
    if not lat:
        return None, None
    a = np.array(lat) * 1000
    return float(np.percentile(a, 50)), float(np.percentile(a, 95))


def clip_frames(clip: Path, size: tuple[int, int], limit: int, framing: Framing | None = None) -> np.ndarray:
    """The clip's first ``limit`` frames as a model with this framing takes them."""
    cap, info = open_video(clip)
    cap.release()
    framer = Framer(framing or Framing(), size)
    frames = [framer(f, i / info.fps) for i, f in itertools.islice(iter_frames(clip), limit)]
    if not frames:
        raise UserError(f"no frames in {clip}")
    return np.stack(frames)
