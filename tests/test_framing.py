"""Framing: the motion crop follows what moves, and training decodes a clip exactly as the daemon's capture frames it."""

from __future__ import annotations

import numpy as np
import pytest

from homegym.core.errors import UserError
from homegym.core.framing import Framer, Framing
from homegym.core.video import downscale

W, H, FPS = 320, 240, 15.0


def _scene(n: int, moving: bool = True) -> list[np.ndarray]:
    """A textured static room with a bright block bobbing up and down in its lower left part."""
    rng = np.random.default_rng(0)
    room = rng.integers(40, 200, (H, W, 3), dtype=np.uint8)
    frames = []
    for i in range(n):
        f = room.copy()
        f += rng.integers(0, 2, f.shape, dtype=np.uint8)  # sensor noise everywhere
        y = 140 + (int(30 * np.sin(2 * np.pi * i / FPS)) if moving else 0)
        f[y : y + 40, 30:90] = 255
        frames.append(f)
    return frames


def test_full_framing_is_the_shared_downscale():
    frame = _scene(1)[0]
    assert np.array_equal(Framer(Framing(), (64, 64))(frame, 0.0), downscale(frame, (64, 64)))


def test_motion_crop_closes_in_on_what_moves_and_keeps_the_frame_aspect():
    framer = Framer(Framing("motion"), (64, 64))
    for i, f in enumerate(_scene(int(6 * FPS))):
        out = framer(f, i / FPS)
    x0, y0, x1, y1 = framer.box
    assert out.shape == (64, 64, 3)
    assert (x1 - x0) < 0.6 * W, framer.box  # closed in
    assert (x1 - x0) / (y1 - y0) == pytest.approx(W / H, rel=1e-6)
    assert x0 <= 30 and x1 >= 90 and y0 <= 110 and y1 >= 210, framer.box  # the whole swing of the block inside
    assert 0 <= x0 and 0 <= y0 and x1 <= W and y1 <= H


def test_motion_crop_without_motion_keeps_the_whole_frame_and_a_new_size_starts_over():
    framer = Framer(Framing("motion"), (64, 64))
    for i, f in enumerate(_scene(int(3 * FPS), moving=False)):
        framer(f, i / FPS)
    assert np.allclose(framer.box, [0, 0, W, H])  # sensor noise is not motion
    for i, f in enumerate(_scene(int(4 * FPS))):
        framer(f, 3 + i / FPS)
    assert framer.box[2] - framer.box[0] < 0.6 * W
    framer(np.zeros((120, 160, 3), np.uint8), 8.0)  # another camera mode: the old box means nothing there
    assert np.allclose(framer.box, [0, 0, 160, 120])


def test_framing_round_trips_and_rejects_nonsense():
    m = Framing("motion", margin=0.2)
    assert Framing.from_dict(m.to_dict()) == m
    assert Framing.from_dict(None) == Framing() == Framing.from_dict({})  # models from before framing
    assert Framing().to_dict() == {"mode": "full"}
    with pytest.raises(UserError, match="framing must be one of"):
        Framing("zoom")
    with pytest.raises(UserError, match="out of range"):
        Framing("motion", min_scale=0.0)


def test_training_frames_a_clip_exactly_as_the_daemons_capture_does(rendered):
    """The contract that makes a motion-crop model work: the same pixels in training and in the daemon."""
    from homegym.daemon.config.settings import SourceConfig
    from homegym.daemon.frames.capture import Capture
    from homegym.daemon.frames.ring import FrameRing
    from homegym.train.image.dataset import ClipSource, _decode_video

    clip = sorted(rendered.glob("pushup_*.mp4"))[0]
    framing = Framing("motion")
    frames, index, _ = _decode_video(ClipSource(clip.stem, clip.stem, "", video=clip), (48, 48), 2, None, framing)

    ring = FrameRing(8, (48, 48, 3))
    framer = Framer(framing, (48, 48))
    cap = Capture(SourceConfig(uri=str(clip)), ring, framer, infer_fps=7.5)
    cap.start()
    assert cap.stride == 2
    got, ids = [], []
    while (batch := ring.read(4, timeout=10)) is not None:
        got.append(batch.frames.copy())
        ids.extend(batch.ids.tolist())
    cap.join(10)
    assert ids == index.tolist()
    assert np.array_equal(np.concatenate(got), frames[..., ::-1])  # training keeps RGB, the ring BGR
    assert framer.box is not None and framer.box[2] - framer.box[0] < 224  # it did crop
