"""YAML text → plain Python data plus the line:column of every key and value.

PyYAML's ``compose_all`` keeps node marks that ``safe_load`` throws away; we walk the node tree ourselves so
every later error (pydantic, references, paths) can point at the exact key or value. Floats follow YAML 1.2
(``1e-4`` is a number, as editors and the JSON Schema see it, not the string PyYAML 1.1 would make of it).
Keys given twice in one mapping are reported instead of silently keeping the last one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats without a dot (``1e-4``, ``5E-5``)."""


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


@dataclass(frozen=True)
class Pos:
    """1-based line and column of a node's start."""

    line: int
    column: int


@dataclass
class Document:
    """One YAML document: its plain data and where each key/value of it sits in the file."""

    data: Any
    start: Pos
    keys: dict[Path, Pos] = field(default_factory=dict)  # path of a mapping entry → its key
    values: dict[Path, Pos] = field(default_factory=dict)  # path → its value node
    duplicate_keys: list[tuple[Path, Pos, Pos]] = field(default_factory=list)  # (path, first, again)
    bad_keys: list[tuple[Path, Pos]] = field(default_factory=list)  # non-scalar mapping keys

    def key_pos(self, path: Path) -> Pos:
        """Where the key of ``path`` is written, else the closest enclosing node."""
        return self._closest(path, prefer_key=True)

    def value_pos(self, path: Path) -> Pos:
        """Where the value of ``path`` is written, else the closest enclosing node."""
        return self._closest(path, prefer_key=False)

    def _closest(self, path: Path, *, prefer_key: bool) -> Pos:
        first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
        if path in first:
            return first[path]
        if path in second:
            return second[path]
        # Not written at all (a missing field, a pydantic union branch): point at the nearest parent key.
        for n in range(len(path) - 1, -1, -1):
            prefix = path[:n]
            if prefix in self.keys:
                return self.keys[prefix]
            if prefix in self.values:
                return self.values[prefix]
        return self.start


def _pos(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.constructor = SafeConstructor()
        # An alias reuses its anchor's node: build each node once, so "billion laughs" input stays linear and
        # a recursive anchor becomes a recursive object (which validation then rejects) instead of a crash.
        self.built: dict[int, Any] = {}

    def build(self, node: Node, path: Path) -> Any:
        self.doc.values.setdefault(path, _pos(node))
        if id(node) in self.built:
            return self.built[id(node)]
        if isinstance(node, MappingNode):
            # Merge keys (<<: *anchor) are folded in first, as safe_load would do.
            self.constructor.flatten_mapping(node)
            out: dict[str, Any] = {}
            self.built[id(node)] = out
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    self.doc.bad_keys.append((path, _pos(key_node)))
                    continue
                key = str(self.constructor.construct_object(key_node))
                child = (*path, key)
                if key in out:
                    self.doc.duplicate_keys.append((child, self.doc.keys[child], _pos(key_node)))
                self.doc.keys[child] = _pos(key_node)
                out[key] = self.build(value_node, child)
            return out
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            self.built[id(node)] = items
            items.extend(self.build(item, (*path, i)) for i, item in enumerate(node.value))
            return items
        return self.constructor.construct_object(node, deep=True)


class YamlSyntaxError(Exception):
    """The text is not valid YAML; ``pos`` is where the parser gave up."""

    def __init__(self, message: str, pos: Pos | None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


def iter_documents(text: str) -> Iterator[Document]:
    """Yield each document in ``text``; raise :class:`YamlSyntaxError` where the YAML breaks.

    Documents before a syntax error are still yielded, so their own problems are reported too.
    """
    try:
        for node in yaml.compose_all(text, Loader=_Loader):
            doc = Document(data=None, start=_pos(node))
            doc.data = _Builder(doc).build(node, ())
            yield doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        pos = Pos(mark.line + 1, mark.column + 1) if mark else None
        what = " ".join(p for p in (exc.context, exc.problem) if p) or "invalid YAML"
        raise YamlSyntaxError(what, pos) from None
    except yaml.YAMLError as exc:  # ReaderError (control characters) and friends carry no mark
        mark_pos = None
        position = getattr(exc, "position", None)
        if isinstance(position, int):
            before = text[:position]
            mark_pos = Pos(before.count("\n") + 1, position - (before.rfind("\n") + 1) + 1)
        reason = getattr(exc, "reason", None) or str(exc).splitlines()[0]
        raise YamlSyntaxError(str(reason), mark_pos) from None
    except ValueError as exc:  # a scalar the constructor cannot build (e.g. a bad timestamp)
        raise YamlSyntaxError(str(exc), None) from None


def load_documents(text: str) -> list[Any]:
    """Plain data of every document (what ``yaml.safe_load_all`` would give, with YAML 1.2 floats)."""
    return [doc.data for doc in iter_documents(text)]
