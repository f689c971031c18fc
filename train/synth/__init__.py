"""Rendered workout clips with exact ground truth (``homegym synth``): NumPy and OpenCV only, no TensorFlow."""

from .clip import ACTIVITIES, KINDS, ClipResult, Rep, render_clip

__all__ = ["ACTIVITIES", "KINDS", "ClipResult", "Rep", "render_clip"]
