"""From a rep's decision to the broker's acknowledgement of its event, on loopback, with a broker of its own."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from homegym.core.errors import UserError
from homegym.core.model_info import read_ir
from homegym.core.video import open_video

from ..broker import Mosquitto, mosquitto_path
from .report import BenchReport, Figure, percentiles


def latency_figures(report: BenchReport, model: Path, clip: Path, cfg, work: Path, rounds: int) -> None:
    """From the counter's decision (the event handed to the publisher) to the broker's PUBACK, on loopback."""
    from homegym.daemon.classify.factory import resolve_model_path
    from homegym.daemon.config.settings import MqttConfig, for_file
    from homegym.daemon.counting.voting import Voter
    from homegym.daemon.delivery.mqtt import Publisher
    from homegym.daemon.delivery.outbox import Outbox
    from homegym.daemon.frames.capture import stride_for
    from homegym.daemon.pipeline.observer import Collect
    from homegym.daemon.pipeline.pipeline import Pipeline

    cap, vinfo = open_video(clip)
    cap.release()
    _, info = read_ir(resolve_model_path(str(model), None))
    rate = vinfo.fps / stride_for(vinfo.fps, cfg.pipeline.infer_fps)  # the frames the voting sees
    delay_ms = 1000 * Voter(info.labels, cfg.voting).delay_frames / rate
    report.add(Figure("latency", f"voting window's own delay at {rate:.0f} inferred fps", delay_ms, "ms", key="latency/voting"))
    if mosquitto_path() is None:
        report.add(Figure("latency", "rep decided -> broker PUBACK", None, "ms", note="mosquitto not installed", key="latency/puback"))
        return
    events = Collect()
    Pipeline.open(for_file(cfg, clip), model, events).run()
    reps = [e for e in events.events if e.type == "rep"]
    if not reps:
        report.add(Figure("latency", "rep decided -> broker PUBACK", None, "ms", note=f"no rep counted in {clip.name}",
                          key="latency/puback"))
        return
    sent: dict[int, float] = {}
    lat: list[float] = []
    acked = threading.Event()

    def delivered(seq: int) -> None:
        if seq in sent:
            lat.append(time.perf_counter() - sent.pop(seq))
            if not sent:
                acked.set()

    (work / "broker").mkdir(exist_ok=True)
    with Mosquitto(work / "broker", persistence=False) as broker:
        outbox = Outbox(work / "outbox.sqlite3").open()
        pub = Publisher(MqttConfig(port=broker.port, client_id="homegym-bench", ha_discovery=False), outbox, on_delivered=delivered)
        try:
            pub.start()
            if not pub.connected.wait(10):
                raise UserError("could not connect to the bench's own mosquitto")
            for _ in range(rounds):
                for e in reps:
                    acked.clear()
                    sent[outbox.last_seq + 1] = time.perf_counter()
                    pub.handle(e)  # what the service does when the counter decides
                    acked.wait(2)
        finally:
            pub.stop(flush_timeout_s=1)
            outbox.close()
    p50, p95 = percentiles(lat)
    report.add(Figure("latency", f"rep decided -> broker PUBACK (QoS 1, loopback, {len(lat)} reps)", p95, "ms p95", p50, p95,
                      ratio=p95 / 50 if p95 is not None else None, note="goal 50 ms beyond the voting window", key="latency/puback"))
