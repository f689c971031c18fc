"""MQTT topic rules for the prefixes a user configures: a publish topic may hold no wildcard."""

from __future__ import annotations


def topic_problem(prefix: str) -> str | None:
    """Why ``prefix`` cannot start publish topics, or None where it can.

    A wildcard (# or +) or a NUL makes every publish fail inside paho's network thread; a leading or
    trailing / makes an empty topic level no subscriber expects."""
    if not prefix:
        return "must not be empty"
    if "#" in prefix or "+" in prefix:
        return f"must not contain the MQTT wildcards # or +, got {prefix!r}"
    if "\0" in prefix:
        return "must not contain a NUL character"
    if prefix.startswith("/") or prefix.endswith("/"):
        return f"must not start or end with /, got {prefix!r}"
    if len(prefix.encode()) > 200:
        return "must be at most 200 bytes (MQTT topics are short)"
    return None
