"""Rasterising the scene with OpenCV: a random room once per clip, then the shaded figure per frame.

Limbs are 3D capsules projected by the camera and painted far to near; each is drawn
as three nested capsules (shadow side, mid-tone, highlight offset towards the light)
so it reads as a lit, round body, not as a stick figure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .body import BALLS, LIMBS, Body, Pose
from .camera import Camera

SHIFT = 4  # sub-pixel bits for OpenCV's drawing calls
SCALE = 1 << SHIFT


@dataclass(frozen=True)
class Look:
    """Colours (BGR, 0..255) of the figure's parts and the light on it."""

    colours: dict[str, np.ndarray]
    light: np.ndarray  # unit vector towards the light, world frame
    ambient: float
    tint: np.ndarray  # per-channel multiplier for the whole frame (colour temperature)

    @classmethod
    def random(cls, rng: np.random.Generator) -> Look:
        def hsv(h: float, s: float, v: float) -> np.ndarray:
            px = np.array([[[int(h) % 180, int(s), int(v)]]], np.uint8)
            return cv2.cvtColor(px, cv2.COLOR_HSV2BGR)[0, 0].astype(np.float64)

        skin_tones = [(12, 90, 230), (12, 120, 190), (10, 140, 140), (10, 150, 95), (14, 70, 240), (11, 130, 60)]
        skin = hsv(*skin_tones[rng.integers(len(skin_tones))]) * rng.uniform(0.9, 1.1)
        shirt = hsv(rng.uniform(0, 180), rng.uniform(0, 255), rng.uniform(30, 250))
        pants = hsv(rng.uniform(0, 180), rng.uniform(0, 200), rng.uniform(20, 200))
        shoe = hsv(rng.uniform(0, 180), rng.uniform(0, 120), rng.uniform(20, 250))
        long_sleeves, long_pants = rng.random() < 0.4, rng.random() < 0.6
        colours = {
            "skin": skin,
            "shirt": shirt,
            "sleeve": shirt if rng.random() < 0.7 else skin,
            "forearm": shirt if long_sleeves else skin,
            "pants": pants,
            "shin": pants if long_pants else skin,
            "shoe": shoe,
        }
        el, az = rng.uniform(0.3, 1.3), rng.uniform(0, 2 * np.pi)
        light = np.array([np.cos(el) * np.cos(az), np.sin(el), np.cos(el) * np.sin(az)])
        tint = np.array([rng.uniform(0.8, 1.1), rng.uniform(0.9, 1.05), rng.uniform(0.8, 1.15)])
        return cls(colours, light, float(rng.uniform(0.3, 0.6)), tint * rng.uniform(0.6, 1.2))


def _noise_texture(rng: np.random.Generator, size: tuple[int, int], cells: int) -> np.ndarray:
    w, h = size
    small = rng.random((max(2, cells * h // w), cells)).astype(np.float32)
    return cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)


def _room_colour(rng: np.random.Generator) -> np.ndarray:
    """Mostly muted colours, as real walls and floors are, with a share of loud ones for variety."""
    grey = rng.uniform(25, 235)
    sat = rng.uniform(0, 0.25) if rng.random() < 0.75 else rng.uniform(0.3, 0.9)
    return np.clip(grey * (1 - sat) + rng.uniform(0, 255, 3) * sat, 0, 255)


def make_background(rng: np.random.Generator, cam: Camera, size: tuple[int, int]) -> np.ndarray:
    """A room: a wall (gradient, noise or wallpaper), a perspective floor (planks, tiles or carpet), clutter."""
    w, h = size
    c1, c2 = _room_colour(rng), _room_colour(rng)
    kind = rng.integers(3)
    ys = np.linspace(0, 1, h, dtype=np.float32)[:, None, None]
    xs = np.linspace(0, 1, w, dtype=np.float32)[None, :, None]
    img: np.ndarray
    if kind == 0:  # gradient
        g = ys if rng.random() < 0.6 else xs
        img = c1 * (1 - g) + c2 * g
    elif kind == 1:  # blotchy noise
        n = _noise_texture(rng, size, int(rng.integers(3, 20)))[:, :, None]
        img = c1 * (1 - n) + c2 * n
    else:  # wallpaper stripes
        period = rng.uniform(8, 60)
        s = (np.sin(xs * w * 2 * np.pi / period) > rng.uniform(-0.5, 0.5)).astype(np.float32)
        img = c1 * (1 - 0.25 * s) + 0 * ys
    img = np.broadcast_to(img, (h, w, 3)).astype(np.float32).copy()
    # Clutter on the wall: windows, posters, shelves, doors.
    for _ in range(int(rng.integers(0, 6))):
        x0, y0 = int(rng.uniform(-0.1, 1) * w), int(rng.uniform(-0.1, 0.8) * h)
        cw, ch = int(rng.uniform(0.05, 0.4) * w), int(rng.uniform(0.05, 0.5) * h)
        cv2.rectangle(img, (x0, y0), (x0 + cw, y0 + ch), _room_colour(rng).tolist(), -1)
    _draw_floor(rng, img, cam)
    # Fine noise texture over everything, then a vignette.
    img += (_noise_texture(rng, size, int(rng.integers(40, 160)))[:, :, None] - 0.5) * rng.uniform(0, 40)
    vig = 1 - rng.uniform(0, 0.45) * (((xs - 0.5) ** 2 + (ys - 0.5) ** 2) * 2)
    img *= vig
    return np.clip(img, 0, 255).astype(np.uint8)


def _draw_floor(rng: np.random.Generator, img: np.ndarray, cam: Camera) -> None:
    half = 12.0
    corners = np.array([[-half, 0, -half], [half, 0, -half], [half, 0, half], [-half, 0, half]])
    poly = _clip_floor(cam, corners)
    if poly is None:
        return
    colour = _room_colour(rng)
    cv2.fillPoly(img, [np.round(poly * SCALE).astype(np.int32)], colour.tolist(), cv2.LINE_AA, SHIFT)
    pattern = rng.integers(3)
    if pattern == 2:
        return  # carpet: plain
    step = rng.uniform(0.15, 0.6)
    line_col = (colour * rng.uniform(0.6, 0.9)).tolist()
    ticks = np.arange(-half, half, step)
    lines = [((-half, 0, t), (half, 0, t)) for t in ticks]
    if pattern == 1:  # tiles
        lines += [((t, 0, -half), (t, 0, half)) for t in ticks]
    for a, b in lines:
        seg = _clip_segment(cam, np.array(a, float), np.array(b, float))
        if seg is not None:
            p = np.round(seg * SCALE).astype(np.int32)
            cv2.line(img, tuple(p[0]), tuple(p[1]), line_col, 1, cv2.LINE_AA, SHIFT)


def _clip_segment(cam: Camera, a: np.ndarray, b: np.ndarray, near: float = 0.1) -> np.ndarray | None:
    """Project a world segment after clipping it to the part in front of the camera."""
    za, zb = cam.to_cam(np.stack([a, b]))[:, 2]
    if za < near and zb < near:
        return None
    if za < near:
        a = a + (b - a) * (near - za) / (zb - za)
    elif zb < near:
        b = b + (a - b) * (near - zb) / (za - zb)
    return cam.project(np.stack([a, b]))[0]


def _clip_floor(cam: Camera, corners: np.ndarray, near: float = 0.1) -> np.ndarray | None:
    """Sutherland-Hodgman clip of the floor polygon against the near plane, then project it."""
    z = cam.to_cam(corners)[:, 2]
    out = []
    for i in range(len(corners)):
        a, b, za, zb = corners[i], corners[(i + 1) % len(corners)], z[i], z[(i + 1) % len(corners)]
        if za >= near:
            out.append(a)
        if (za >= near) != (zb >= near):
            out.append(a + (b - a) * (near - za) / (zb - za))
    if len(out) < 3:
        return None
    return cam.project(np.array(out))[0]


def _capsule(img: np.ndarray, a: np.ndarray, b: np.ndarray, ra: float, rb: float, colour: list[float]) -> None:
    """A 2D capsule with end radii ``ra`` and ``rb`` (plain floats: this runs ~60 times a frame)."""
    ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    dx, dy = bx - ax, by - ay
    n = (dx * dx + dy * dy) ** 0.5
    if n > 1e-6:
        px, py = -dy / n, dx / n
        quad = np.array(
            [
                [ax + px * ra, ay + py * ra],
                [bx + px * rb, by + py * rb],
                [bx - px * rb, by - py * rb],
                [ax - px * ra, ay - py * ra],
            ]
        )
        cv2.fillConvexPoly(img, (quad * SCALE).astype(np.int32), colour, cv2.LINE_AA, SHIFT)
    cv2.circle(img, (int(ax * SCALE), int(ay * SCALE)), max(int(ra * SCALE), 1), colour, -1, cv2.LINE_AA, SHIFT)
    if n > 0.5:
        cv2.circle(img, (int(bx * SCALE), int(by * SCALE)), max(int(rb * SCALE), 1), colour, -1, cv2.LINE_AA, SHIFT)


def draw_shadow(img: np.ndarray, pose: Pose, cam: Camera, strength: float) -> None:
    """A soft contact shadow: the hull of the joints dropped onto the floor, blurred."""
    pts = np.array([[p[0], 0.0, p[2]] for p in pose.values()])
    uv, _ = cam.project(pts)
    h, w = img.shape[:2]
    pad = 0.04 * w
    x0, y0 = int(max(uv[:, 0].min() - pad, 0)), int(max(uv[:, 1].min() - pad, 0))
    x1, y1 = int(min(uv[:, 0].max() + pad, w)), int(min(uv[:, 1].max() + pad, h))
    if x1 - x0 < 4 or y1 - y0 < 4:
        return
    q = 4  # the mask is drawn and blurred at a quarter of the resolution: a shadow has no detail
    small: np.ndarray = np.zeros(((y1 - y0) // q + 1, (x1 - x0) // q + 1), np.float32)
    hull = cv2.convexHull(((uv - [x0, y0]) / q).astype(np.float32))
    cv2.fillConvexPoly(small, np.round(hull * SCALE).astype(np.int32), strength, cv2.LINE_AA, SHIFT)
    small = cv2.GaussianBlur(small, (0, 0), max(pad / q / 2, 1.0))
    mask = cv2.resize(small, (x1 - x0, y1 - y0), interpolation=cv2.INTER_LINEAR)
    roi = img[y0:y1, x0:x1]
    roi[:] = (roi * (1 - mask[:, :, None])).astype(np.uint8)


def draw_figure(img: np.ndarray, pose: Pose, body: Body, cam: Camera, look: Look) -> None:
    """Paint the figure far to near with shaded capsules and spheres."""
    names = list(pose)
    idx = {k: i for i, k in enumerate(names)}
    world = np.stack([pose[k] for k in names])
    uv, depth = cam.project(world)
    view = -cam.rot[2]
    items: list[tuple[float, str, tuple]] = []
    for a, b, rf, part in LIMBS:
        ia, ib = idx[a], idx[b]
        items.append((max(depth[ia], depth[ib]) * 0.5 + min(depth[ia], depth[ib]) * 0.5, "limb", (ia, ib, rf, part)))
    for j, rf, part in BALLS:
        items.append((depth[idx[j]] - 0.01, "ball", (idx[j], rf, part)))
    items.sort(key=lambda it: -it[0])
    amb, dif = look.ambient, 1 - look.ambient
    for _, kind, data in items:
        if kind == "limb":
            ia, ib, rf, part = data
            r = body.radius(rf)
            axis = world[ib] - world[ia]
            axis = axis / (np.linalg.norm(axis) + 1e-9)
            lp = look.light - np.dot(look.light, axis) * axis
            vp = view - np.dot(view, axis) * axis
            mid = (world[ia] + world[ib]) / 2
            a2, b2 = uv[ia], uv[ib]
            ra, rb = cam.focal * r / depth[ia], cam.focal * r / depth[ib]
        else:
            ij, rf, part = data
            r = body.head_r if part == "skin" and rf > 0.05 else body.radius(rf)
            lp, vp, mid = look.light, view, world[ij]
            a2 = b2 = uv[ij]
            ra = rb = cam.focal * r / depth[ij]
        lit = float(np.linalg.norm(lp))
        facing = float(np.dot(lp, vp) / (lit * np.linalg.norm(vp) + 1e-9)) if lit > 1e-6 else 0.0
        off2 = cam.project(np.stack([mid, mid + lp / (lit + 1e-9) * r]))[0]
        shift = (off2[1] - off2[0]) * 0.45
        base = look.colours[part]
        tones = ((1.0, amb, 0.0), (0.72, amb + dif * lit * (0.35 + 0.25 * facing), 0.45),
                 (0.38, amb + dif * lit * (0.6 + 0.4 * max(facing, 0)), 0.9))
        for frac, bright, sh in tones:
            col = np.clip(base * bright * 1.25, 0, 255).tolist()
            _capsule(img, a2 + shift * sh, b2 + shift * sh, ra * frac, rb * frac, col)
