"""Collecting diagnostics while loading: every check reports here, the loader raises once at the end.

A :class:`Source` ties one YAML document (its file and node positions) to the resource address it
defines, so a check only names the field path and the diagnostic gets ``file:line:column`` for free.
"""

from __future__ import annotations

import difflib
import reprlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ftops.errors import Diagnostic, Location
from ftops.manifest.yamlnodes import Document, Path, Pos


def did_you_mean(word: object, choices: Iterable[str]) -> str | None:
    """The closest choice to ``word`` (case-insensitive), or None when nothing is close."""
    options = list(choices)
    if not isinstance(word, str) or not options:
        return None
    lowered = {c.lower(): c for c in options}
    if word.lower() in lowered:
        return lowered[word.lower()]
    hits = difflib.get_close_matches(word.lower(), list(lowered), n=1, cutoff=0.6)
    return lowered[hits[0]] if hits else None


_EXCERPT = reprlib.Repr()
_EXCERPT.maxlevel, _EXCERPT.maxlist, _EXCERPT.maxdict, _EXCERPT.maxstring, _EXCERPT.maxother = 2, 4, 4, 60, 60


def excerpt(value: object) -> str:
    """A bounded ``repr`` of user input: a few items and characters, however large (or recursive) the value."""
    return _EXCERPT.repr(value)


def dotted(path: Path) -> str:
    """``("spec", "training_files", 0, "file")`` → ``spec.training_files[0].file``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass
class Collector:
    """All diagnostics of one load, deduplicated (matrix jobs share their parent's problems)."""

    diagnostics: list[Diagnostic] = field(default_factory=list)
    _seen: set[Diagnostic] = field(default_factory=set)
    # Addresses whose document failed validation: they exist, so references to them are not dangling.
    broken: set[str] = field(default_factory=set)
    # Every document of a known kind (valid or not): their references are checked against the others.
    sources: list[Source] = field(default_factory=list)

    def add(self, diagnostic: Diagnostic) -> None:
        if diagnostic not in self._seen:
            self._seen.add(diagnostic)
            self.diagnostics.append(diagnostic)

    def checkpoint(self) -> Callable[[], None]:
        """A function that takes this collector back to now (a file read again after a parser switch)."""
        diagnostics, broken, sources = len(self.diagnostics), set(self.broken), len(self.sources)

        def rollback() -> None:
            self._seen.difference_update(self.diagnostics[diagnostics:])
            del self.diagnostics[diagnostics:]
            del self.sources[sources:]
            self.broken.clear()
            self.broken.update(broken)

        return rollback

    def at(
        self, code: str, message: str, *, file: str, pos: Pos | None = None, address: str | None = None,
        hint: str | None = None,
    ) -> None:
        loc = Location(file, pos.line, pos.column) if pos else Location(file)
        self.add(Diagnostic(code=code, message=message, location=loc, address=address, hint=hint))


@dataclass(slots=True)
class Source:
    """Where one resource was written: its file, its YAML document, and its address."""

    file: str  # as shown to users: relative to the project root when inside it
    doc: Document
    address: str | None
    collector: Collector
    # (name, kind, path) of each reference the document writes, read from its data before the data is released
    references: tuple[tuple[str, str, Path], ...] = ()

    def location(self, path: Path = (), *, key: bool = False) -> Location:
        pos = self.doc.key_pos(path) if key else self.doc.value_pos(path)
        return Location(self.file, pos.line, pos.column)

    def report(self, code: str, message: str, path: Path = (), *, hint: str | None = None, key: bool = False) -> None:
        """Report a problem at the value of ``path`` (or at its key with ``key=True``)."""
        self.collector.add(
            Diagnostic(code=code, message=message, location=self.location(path, key=key), address=self.address,
                       hint=hint)
        )
