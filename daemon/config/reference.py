"""The reference config.yaml and docs/configuration.md, rendered from the config models.

``homegym config-reference --format yaml|markdown`` prints them; tests hold the checked-in
files equal to the rendering, so a key's default, bounds and description live only in
``config.py``.
"""

from __future__ import annotations

import textwrap
from types import UnionType
from typing import Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from .settings import Config

YAML_HEADER = """\
# HomeGym Spotter daemon configuration: the documented reference.
#
# Rendered from the config models (homegym config-reference --format yaml); every key is
# optional and the value shown is its default. `homegym check-config FILE` validates a
# file without running anything: unknown keys, wrong types and out-of-range values are
# each reported on one line naming the key.
"""

MD_HEADER = """\
# Configuration reference

Rendered from the config models in `daemon/config/settings.py` by
`homegym config-reference --format markdown`; a test holds this page, `config.yaml`
and the models equal. Every key is optional; a file names only what it changes.
`homegym check-config FILE` validates a file, and a reload (`systemctl reload homegym`,
SIGHUP) applies a valid one while the daemon runs (`state.*` at the next start).
"""


def _bounds(f: FieldInfo) -> str:
    lo = hi = None
    for m in f.metadata:
        lo = getattr(m, "ge", lo)
        hi = getattr(m, "le", hi)
    if lo is None and hi is None:
        return ""
    return f"{lo:g}..{hi:g}"


def _type(f: FieldInfo) -> str:
    def name(t: Any) -> str:
        if t is type(None):
            return "null"
        if get_origin(t) is Literal:
            return " or ".join(_yaml_value(a) for a in get_args(t))
        if get_origin(t) is dict:
            return "mapping"
        args = get_args(t)
        if args and get_origin(t) in (Union, UnionType):
            return " or ".join(name(a) for a in args)
        return {int: "integer", float: "number", str: "string", bool: "true/false"}.get(t, getattr(t, "__name__", str(t)))

    return name(f.annotation)


def _plain(v: Any) -> Any:
    """A default as YAML writes it: models as their set keys (an override's unset keys are the section's)."""
    if isinstance(v, BaseModel):
        return v.model_dump(exclude_none=True)
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    return v


def _yaml_value(v: Any) -> str:
    v = _plain(v)
    dumped: str = yaml.safe_dump(v, default_flow_style=True, width=1_000_000).strip()
    return dumped.removesuffix("\n...").removesuffix("...").strip()


def sections() -> list[tuple[str, type[BaseModel], dict[str, FieldInfo]]]:
    out = []
    for name, f in Config.model_fields.items():
        model = f.default_factory  # each section's class is its default factory
        assert isinstance(model, type) and issubclass(model, BaseModel)
        out.append((name, model, model.model_fields))
    return out


def render_yaml(overrides: dict[tuple[str, str], tuple[Any, str]] | None = None) -> str:
    """The reference; with ``overrides`` ((section, key) -> (value, why)), those keys set, each with its reason."""
    overrides = overrides or {}
    lines = [YAML_HEADER]
    for name, model, fields in sections():
        lines.append(f"{name}:  # {' '.join(model.__doc__.split()) if model.__doc__ else ''}".rstrip())
        defaults = model()
        for key, f in fields.items():
            desc = " ".join((f.description or "").split())
            bounds = _bounds(f)
            if bounds:
                desc += f" Range {bounds}."
            for ln in textwrap.wrap(desc, 100):
                lines.append(f"  # {ln}")
            if (name, key) in overrides:
                value, why = overrides[name, key]
                lines.append(f"  # Set by homegym install-service (default {_yaml_value(getattr(defaults, key))}): {why}.")
                lines.append(f"  {key}: {_yaml_value(value)}")
            else:
                lines.append(f"  {key}: {_yaml_value(getattr(defaults, key))}")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"


def render_markdown() -> str:
    out = [MD_HEADER]
    for name, model, fields in sections():
        out.append(f"## `{name}`\n\n{(model.__doc__ or '').strip()}\n")
        out.append("| key | default | type | range | what it does |\n| --- | --- | --- | --- | --- |")
        defaults = model()
        for key, f in fields.items():
            desc = " ".join((f.description or "").split()).replace("|", "\\|")
            out.append(f"| `{key}` | `{_yaml_value(getattr(defaults, key))}` | {_type(f)} | {_bounds(f)} | {desc} |")
        out.append("")
    return "\n".join(out).rstrip() + "\n"
