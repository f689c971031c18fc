"""config.yaml read with bounds: its size, its nesting, its aliases' expansion, and no key twice.

PyYAML's safe loader builds a "billion laughs" file (a few hundred bytes of nested aliases) as shared
objects, cheaply; what explodes is whoever walks the result (validation, an error message that echoes
it). So the document is measured as a node graph, expanded size and depth, before anything is built
from it, and a file over a bound is refused in one line. A key given twice is a mistake the last one
would silently win, so it is refused too, naming both lines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from homegym.core.errors import UserError

MAX_BYTES = 256 * 1024  # the reference config.yaml, every key documented, is about 40 KB
MAX_EXPANDED = 4 * MAX_BYTES  # characters of the document with every alias expanded (a value counts one more)
MAX_DEPTH = 32  # a config is sections of keys: four levels deep at most (voting.per_label.LABEL.key)


class _Loader(yaml.SafeLoader):
    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise UserError(f"key {str(key)[:60]!r} given twice, at lines {seen[key]} and {key_node.start_mark.line + 1} "
                                "(remove one: the last would win)")
            if isinstance(key, (str, int, float, bool)):
                seen[key] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _measure(node: yaml.Node, depth: int, sizes: dict[int, int]) -> int:
    """Characters under ``node`` with every alias expanded (each shared node measured once)."""
    if depth > MAX_DEPTH:
        raise UserError(f"nested more than {MAX_DEPTH} levels deep (a config is sections of keys)")
    if id(node) in sizes:
        return sizes[id(node)]
    children: list[yaml.Node] = []
    if isinstance(node, yaml.SequenceNode):
        children = list(node.value)
    elif isinstance(node, yaml.MappingNode):
        children = [n for pair in node.value for n in pair]
    n = 1 + (len(node.value) if isinstance(node, yaml.ScalarNode) else 0)
    for child in children:
        n += _measure(child, depth + 1, sizes)
        if n > MAX_EXPANDED:
            raise UserError(f"more than {MAX_EXPANDED // 1024} KiB once its aliases are expanded (a 'billion laughs' file?)")
    sizes[id(node)] = n
    return n


def load_yaml(path: Path) -> Any:
    """The YAML document in ``path``, or a UserError in one line saying what is wrong with the file."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_BYTES + 1)
    except OSError as e:
        raise UserError(f"cannot read config {path}: {e.strerror}") from None
    if len(raw) > MAX_BYTES:
        raise UserError(f"{path}: larger than {MAX_BYTES // 1024} KiB: not a config file")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise UserError(f"{path}: not UTF-8 text (byte 0x{raw[e.start]:02x} at offset {e.start})") from None
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _measure(node, 0, {})
        return loader.construct_document(node)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise UserError(f"{path}: not valid YAML{at}: {getattr(e, 'problem', None) or e}") from None
    except RecursionError:
        raise UserError(f"{path}: nested more than {MAX_DEPTH} levels deep (a config is sections of keys)") from None
    except UserError as e:
        raise UserError(f"{path}: {e}") from None
    finally:
        loader.dispose()
