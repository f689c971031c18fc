"""Homegym run as a service: the daemon's lifecycle, signals, systemd, install."""
