"""Frames in: the source, the capture thread, the ring."""
