"""The frame ring: wrap-around, drop counting, and a real writer thread racing a reader."""

from __future__ import annotations

import threading

import numpy as np

from homegym.daemon.frames.ring import FrameRing


def _frame(i: int) -> np.ndarray:
    return np.full((4, 6, 3), i % 251, np.uint8)


def test_reads_in_order_and_wraps_around() -> None:
    ring = FrameRing(4, (4, 6, 3))
    for i in range(3):
        ring.write(_frame(i), i, i / 30)
    b = ring.read(2, timeout=0)
    assert b.ids.tolist() == [0, 1] and b.dropped == 0 and (b.frames[1] == 1).all()
    for i in range(3, 6):
        ring.write(_frame(i), i, i / 30)
    b = ring.read(10, timeout=0)
    assert b.ids.tolist() == [3, 4, 5] and b.dropped == 1  # frame 2 was overwritten unread
    assert [int(f[0, 0, 0]) for f in b.frames] == [3, 4, 5]
    assert ring.read(1, timeout=0) is None  # nothing new
    assert ring.dropped == 1


def test_overrun_counts_every_lost_frame() -> None:
    ring = FrameRing(8, (4, 6, 3))
    for i in range(100):
        ring.write(_frame(i), i, 0.0)
    b = ring.read(100, timeout=0)
    assert b.ids.tolist() == list(range(93, 100))  # capacity - 1 readable: the writer's slot is never handed out
    assert b.dropped == 93 and ring.dropped == 93


def test_batch_is_a_copy_the_writer_cannot_change() -> None:
    ring = FrameRing(3, (4, 6, 3))
    ring.write(_frame(7), 7, 0.0)
    b = ring.read(1, timeout=0)
    for i in range(10):
        ring.write(_frame(i), i, 0.0)
    assert (b.frames[0] == 7).all()


def test_concurrent_writer_and_reader_lose_nothing_silently() -> None:
    ring = FrameRing(16, (4, 6, 3))
    n = 20000
    seen: list[int] = []
    dropped = 0

    def writer() -> None:
        for i in range(n):
            slot = ring.slot_for_write()
            slot[:] = i % 251
            ring.commit(i, float(i))
        ring.close()

    t = threading.Thread(target=writer)
    t.start()
    while True:
        b = ring.read(5, timeout=1.0)
        if b is None:
            break
        dropped += b.dropped
        for fid, frame in zip(b.ids, b.frames):
            assert (frame == fid % 251).all(), "a torn or stale frame"
        seen.extend(b.ids.tolist())
    t.join()
    assert seen == sorted(seen) and len(set(seen)) == len(seen)
    assert len(seen) + dropped == n and ring.dropped == dropped
