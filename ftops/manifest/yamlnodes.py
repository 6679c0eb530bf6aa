"""YAML text → plain Python data plus the line:column of every key and value.

PyYAML's ``compose_all`` keeps node marks that ``safe_load`` throws away; we walk the node tree ourselves so
every later error (pydantic, references, paths) can point at the exact key or value. Floats follow YAML 1.2
(``1e-4`` is a number, as editors and the JSON Schema see it, not the string PyYAML 1.1 would make of it).
Keys given twice in one mapping are reported instead of silently keeping the last one.

Speed: libyaml's parser (PyYAML's ``CSafeLoader``) is used where PyYAML was built with it; the pure-Python
parser stays the fallback. Both feed the same resolver and the same builder below, so documents are
identical. When libyaml rejects the text, the text is parsed again with the pure-Python parser, so every
syntax error (message and ``line:column``) is the same whichever parser is installed.

Bounds (hostile input must fail fast with one clear error, never hang or crash): a document may hold at most
:data:`MAX_NODES` nodes once aliases are expanded and use at most :data:`MAX_ALIASES` aliases ("billion
laughs" is refused before anything walks the expanded value), and nest at most :data:`MAX_DEPTH` levels.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import yaml
from yaml.constructor import SafeConstructor
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

Path = tuple[str | int, ...]


MAX_DEPTH = 64  # nesting levels of one document (a manifest needs about 6)
MAX_NODES = 200_000  # nodes of one document once aliases are expanded (a big matrix job needs a few thousand)
MAX_ALIASES = 10_000  # aliases (*name) in one document


class _Loader(yaml.SafeLoader):
    """SafeLoader that also reads YAML 1.2 floats without a dot (``1e-4``, ``5E-5``)."""


_FLOAT_12 = re.compile(r"^[-+]?[0-9][0-9_]*(?:\.[0-9_]*)?[eE][-+]?[0-9]+$")
_Loader.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))

_CLoader: type | None
try:
    class _CLoaderImpl(yaml.CSafeLoader):
        """The same loader on libyaml's parser (about 10× faster to compose)."""

    _CLoaderImpl.add_implicit_resolver("tag:yaml.org,2002:float", _FLOAT_12, list("-+0123456789"))
    _CLoader = _CLoaderImpl
except AttributeError:  # PyYAML built without libyaml
    _CLoader = None
# More than MAX_DEPTH flow collections opened in a row ("[[[[…" or "{ {[ …").
_DEEP_FLOW = re.compile(r"[\[{](?:\s*[\[{]){" + str(MAX_DEPTH) + "}")
# What the pure-Python reader refuses (control characters): such text goes straight to that reader's error.
_NON_PRINTABLE = yaml.reader.Reader.NON_PRINTABLE


class Pos(NamedTuple):
    """1-based line and column of a node's start (a tuple: hundreds of thousands are made per large load)."""

    line: int
    column: int


@dataclass(slots=True)
class Document:
    """One YAML document: its plain data and where each key/value of it sits in the file.

    A loader that keeps thousands of documents calls :meth:`release` once it has read one: the data and
    positions are dropped, and the positions are parsed again from the same text only if an error needs them.
    """

    data: Any
    start: Pos
    # Positions packed in one int each (line << 32 | column): a large project has hundreds of thousands.
    keys: dict[Path, int] = field(default_factory=dict)  # path of a mapping entry → its key
    values: dict[Path, int] = field(default_factory=dict)  # path → its value node
    duplicate_keys: list[tuple[Path, Pos, Pos]] = field(default_factory=list)  # (path, first, again)
    bad_keys: list[tuple[Path, Pos]] = field(default_factory=list)  # non-scalar mapping keys
    # Where the document came from, for :meth:`release`: the parse it belongs to and its index there.
    origin: tuple[_Parse, int] | None = field(default=None, repr=False, compare=False)
    _released: bool = field(default=False, repr=False, compare=False)

    def release(self) -> None:
        """Drop the data and the positions; :meth:`restore` (and every position lookup) brings positions back."""
        if self.origin is None:
            return
        self.data = None
        self.keys, self.values = _RELEASED, _RELEASED
        self._released = True

    def restore(self) -> None:
        """Positions back after :meth:`release`, from a second parse of the same text (same parser)."""
        if self._released and self.origin is not None:
            parse, index = self.origin
            self.keys, self.values = parse.positions(index)
            self._released = False

    def key_pos(self, path: Path) -> Pos:
        """Where the key of ``path`` is written, else the closest enclosing node."""
        return self._closest(path, prefer_key=True)

    def value_pos(self, path: Path) -> Pos:
        """Where the value of ``path`` is written, else the closest enclosing node."""
        return self._closest(path, prefer_key=False)

    def _closest(self, path: Path, *, prefer_key: bool) -> Pos:
        self.restore()
        first, second = (self.keys, self.values) if prefer_key else (self.values, self.keys)
        if path in first:
            return unpack(first[path])
        if path in second:
            return unpack(second[path])
        # Not written at all (a missing field, a pydantic union branch): point at the nearest parent key.
        for n in range(len(path) - 1, -1, -1):
            prefix = path[:n]
            if prefix in self.keys:
                return unpack(self.keys[prefix])
            if prefix in self.values:
                return unpack(self.values[prefix])
        return self.start


_RELEASED: dict[Path, int] = {}  # what a released document's positions are until restored (never written to)


class _Parse:
    """One parse of one text with one parser: parsed again, all at once, when a released document needs its
    positions back (only error messages do, so a valid project never pays for it)."""

    def __init__(self, text: str, loader: type) -> None:
        self.text = text
        self.loader = loader
        self._positions: list[tuple[dict[Path, int], dict[Path, int]]] | None = None

    def positions(self, index: int) -> tuple[dict[Path, int], dict[Path, int]]:
        if self._positions is None:
            found: list[tuple[dict[Path, int], dict[Path, int]]] = []
            # The documents before a syntax error are the ones that were read the first time.
            with contextlib.suppress(YamlSyntaxError):
                found.extend((doc.keys, doc.values) for doc in _documents(self.text, self.loader, keep=False))
            self._positions = found
        return self._positions[index]


def unpack(packed: int) -> Pos:
    """A position stored in :attr:`Document.keys` / :attr:`Document.values`."""
    return Pos(packed >> 32, packed & 0xFFFFFFFF)


def _packed(node: Node) -> int:
    mark = node.start_mark
    return (mark.line + 1) << 32 | (mark.column + 1)


_STR_TAG = "tag:yaml.org,2002:str"


def _pos(node: Node) -> Pos:
    return Pos(node.start_mark.line + 1, node.start_mark.column + 1)


class YamlSyntaxError(Exception):
    """The text is not valid YAML; ``pos`` is where the parser gave up."""

    def __init__(self, message: str, pos: Pos | None) -> None:
        super().__init__(message)
        self.message = message
        self.pos = pos


class YamlLimitError(YamlSyntaxError):
    """Valid YAML, but past a bound (nesting depth, alias count, expanded size)."""


class _Builder:
    def __init__(self, doc: Document) -> None:
        self.doc = doc
        self.constructor = SafeConstructor()
        # An alias reuses its anchor's node: build each node once, so "billion laughs" input stays linear and
        # a recursive anchor becomes a recursive object (which validation then rejects) instead of a crash.
        # The value is kept with its expanded size (node count), so the bound is checked without expanding.
        self.built: dict[int, tuple[Any, int]] = {}
        self.aliases = 0

    def build(self, node: Node, path: Path) -> Any:
        return self._build(node, path, 1)[0]

    def _build(self, node: Node, path: Path, depth: int) -> tuple[Any, int]:
        values = self.doc.values
        if path not in values:
            values[path] = _packed(node)
        if id(node) in self.built:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise YamlLimitError(f"the document uses more than {MAX_ALIASES:,} aliases", _pos(node))
            return self.built[id(node)]
        if depth > MAX_DEPTH:
            raise YamlLimitError(f"the document nests more than {MAX_DEPTH} levels deep", _pos(node))
        if isinstance(node, MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, SequenceNode):
            items: list[Any] = []
            self.built[id(node)] = (items, 1)  # a recursive alias counts as one node
            size = 1
            for i, item in enumerate(node.value):
                value, item_size = self._build(item, (*path, i), depth + 1)
                items.append(value)
                size += item_size
            return self._done(node, items, size)
        if node.tag == _STR_TAG:  # most scalars: skip the constructor's bookkeeping
            return node.value, 1
        return self._done(node, self.constructor.construct_object(node, deep=True), 1)

    def _mapping(self, node: MappingNode, path: Path, depth: int) -> tuple[Any, int]:
        # Merge keys (<<: *anchor) are folded in first, as safe_load would do.
        self.constructor.flatten_mapping(node)
        out: dict[str, Any] = {}
        self.built[id(node)] = (out, 1)
        size = 1
        for key_node, value_node in node.value:
            if not isinstance(key_node, ScalarNode):
                self.doc.bad_keys.append((path, _pos(key_node)))
                continue
            key = key_node.value if key_node.tag == _STR_TAG else str(self.constructor.construct_object(key_node))
            child = (*path, key)
            key_pos = _packed(key_node)
            if key in out:
                self.doc.duplicate_keys.append((child, unpack(self.doc.keys[child]), unpack(key_pos)))
            self.doc.keys[child] = key_pos
            out[key], child_size = self._build(value_node, child, depth + 1)
            size += child_size
        return self._done(node, out, size)

    def _done(self, node: Node, value: Any, size: int) -> tuple[Any, int]:
        if size > MAX_NODES:
            raise YamlLimitError(
                f"the document expands to more than {MAX_NODES:,} values (aliases included)", _pos(node)
            )
        self.built[id(node)] = (value, size)
        return value, size


def _documents(text: str, loader: type, *, keep: bool = True) -> Iterator[Document]:
    """Parse with ``loader``; every failure becomes a :class:`YamlSyntaxError` (or its limit subclass).

    ``keep``: the documents can be released and restored (they remember this parse).
    """
    parse = _Parse(text, loader) if keep else None
    try:
        for index, node in enumerate(yaml.compose_all(text, Loader=loader)):
            doc = Document(data=None, start=_pos(node), origin=(parse, index) if parse is not None else None)
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
    except RecursionError:  # the pure-Python composer recurses once per nesting level
        raise YamlLimitError(f"the document nests more than {MAX_DEPTH} levels deep", None) from None
    except ValueError as exc:  # a scalar the constructor cannot build (e.g. a bad timestamp)
        raise YamlSyntaxError(str(exc), None) from None


def iter_documents(
    text: str, *, fast: bool = True, on_restart: Callable[[], None] | None = None
) -> Iterator[Document]:
    """Yield each document in ``text``; raise :class:`YamlSyntaxError` where the YAML breaks.

    Documents before a syntax error are still yielded, so their own problems are reported too. ``fast``
    uses libyaml when PyYAML has it; on any failure the text is parsed again the pure-Python way, so the
    documents yielded and the error raised are exactly those of the pure-Python parser.

    Without ``on_restart`` the libyaml documents are held until the whole text has parsed. With it they are
    yielded as they come (one at a time in memory); if libyaml then fails, ``on_restart`` is called — the
    caller forgets what it took from this text — and the pure-Python parser's documents follow from the first.
    """
    deep = _DEEP_FLOW.search(text)
    if deep is not None:  # refused before parsing: a parser takes seconds to reach its own limit on these
        before = text[: deep.start()]
        pos = Pos(before.count("\n") + 1, deep.start() - (before.rfind("\n") + 1) + 1)
        raise YamlLimitError(f"the document nests more than {MAX_DEPTH} levels deep", pos)
    if fast and _CLoader is not None and not _NON_PRINTABLE.search(text):
        if on_restart is not None:
            try:
                yield from _documents(text, _CLoader)
            except YamlSyntaxError:
                on_restart()  # reparsed below, for the pure-Python parser's own message and position
            else:
                return
            yield from _documents(text, _Loader)
            return
        done: list[Document] = []
        try:
            done.extend(_documents(text, _CLoader))
        except YamlSyntaxError:
            pass  # reparsed below, for the pure-Python parser's own message and position
        else:
            yield from done
            return
    yield from _documents(text, _Loader)


def load_documents(text: str, *, fast: bool = True) -> list[Any]:
    """Plain data of every document (what ``yaml.safe_load_all`` would give, with YAML 1.2 floats)."""
    return [doc.data for doc in iter_documents(text, fast=fast)]


def has_fast_parser() -> bool:
    """Whether libyaml is available to this PyYAML."""
    return _CLoader is not None
