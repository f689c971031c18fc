"""The ``homegym`` command. Each group of subcommands lives in its own module with its parser beside its
handlers; a handler imports its program only when run, so ``homegym run`` never loads TensorFlow and
``homegym --help`` is instant."""

from __future__ import annotations

import sys

from homegym.daemon.service import signals

if signals.wanted_early(sys.argv):
    signals.install()  # before the imports below: a SIGHUP a moment after start must not kill homegym run

import argparse
import logging

from homegym import __version__
from homegym.core import logsetup
from homegym.core.errors import UserError

from . import daemon_commands, data_commands, history_commands, measure_commands, model_commands
from .parsing import LOG_LEVELS, log_level

log = logging.getLogger("homegym")
TRAIN_EXTRA = {"tensorflow", "keras", "nncf", "matplotlib"}  # what pyproject.toml's train extra brings


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="homegym",
        description="HomeGym Spotter: count push-ups and squats from a camera; train, convert and run the model.",
        epilog="Run 'homegym COMMAND --help' for a command's options and examples.",
    )
    p.add_argument("--version", action="version", version=f"homegym {__version__}")
    p.add_argument("--log-level", default=None, choices=LOG_LEVELS, help="default INFO (run: logging.level of the config)")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for group in (daemon_commands, history_commands, measure_commands, data_commands, model_commands):
        group.register(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logsetup.setup(log_level(args) or "INFO", timestamps=args.command == "run")
    try:
        return args.func(args)
    except UserError as e:
        for line in str(e).splitlines():  # a config with three problems: three lines, each complete
            print(f"homegym {args.command}: error: {line}", file=sys.stderr)
        return 2
    except ModuleNotFoundError as e:  # an extra this command needs is not installed (e.g. TensorFlow for train)
        extra = "train" if (e.name or "").split(".")[0] in TRAIN_EXTRA else None
        how = f"pip install 'homegym-spotter[{extra}]' (or pip install -e '.[{extra}]' in the checkout)" if extra else "install it"
        print(f"homegym {args.command}: error: needs {e.name}, which is not installed: {how}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"homegym {args.command}: error: {e.strerror or e}: {e.filename or ''}".rstrip(": "), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"homegym {args.command}: interrupted", file=sys.stderr)
        return 130
