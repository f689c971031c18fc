"""What every command's parser shares: the sub-parser with its examples, a size argument, log levels."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

LOG_LEVELS = ["DEBUG", "INFO", "WARNING", "ERROR"]
Handler = Callable[[argparse.Namespace], int]


def size(text: str) -> tuple[int, int]:
    """WIDTHxHEIGHT, each 16..4096."""
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected WIDTHxHEIGHT, e.g. 640x480, got {text!r}") from None
    if not (16 <= w <= 4096 and 16 <= h <= 4096):
        raise argparse.ArgumentTypeError(f"size out of range 16..4096: {text}")
    return w, h


def add(sub: Any, name: str, help: str, examples: str, func: Handler) -> argparse.ArgumentParser:
    """A subcommand with its help, its examples under the options, and --log-level after the name too."""
    p: argparse.ArgumentParser = sub.add_parser(name, help=help, description=help, epilog="examples:\n" + examples,
                                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.set_defaults(func=func)
    p.add_argument("--log-level", dest="sub_log_level", choices=LOG_LEVELS, help="default INFO (run: logging.level of the config)")
    return p


def load_config(path: Path | None) -> Any:
    """The validated config (None: the built-in defaults)."""
    from homegym.daemon.config.settings import load

    return load(path)


def service_config_path(given: Path | None) -> Path | None:
    """The running daemon's config for a command that talks to it: ``given``, else the service's where installed."""
    from homegym.daemon.service.install import SERVICE_CONFIG

    return given or (SERVICE_CONFIG if SERVICE_CONFIG.exists() else None)


def log_level(args: argparse.Namespace) -> str | None:
    """--log-level, before or after the subcommand; None when not given (the config decides for run)."""
    return getattr(args, "sub_log_level", None) or args.log_level
