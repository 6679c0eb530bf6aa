"""Loading manifests: files and folders of YAML documents → one validated :class:`Manifest`, or every problem.

Folders are searched recursively for ``*.yaml``/``*.yml`` (sorted; hidden files and folders skipped). Each
document is composed with node marks kept, checked for its header (apiVersion, kind, metadata.name), run
through the pydantic schema, matrix-expanded, and finally checked against the other resources and the
disk. Nothing stops at the first mistake: all diagnostics are collected and raised as one
:class:`~ftops.errors.ManifestError`, each with ``file:line:column``, the resource address and a hint.
"""

from __future__ import annotations

import errno
import gc
import os
import stat
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from ftops.addresses import MANIFEST_KINDS
from ftops.errors import Location, ManifestError
from ftops.fieldsets import share_fields_sets
from ftops.manifest import codes
from ftops.manifest._pydantic import report_validation_errors
from ftops.manifest._report import Collector, Source, did_you_mean, dotted, excerpt
from ftops.manifest.checks import Entry, check_all, raw_references
from ftops.manifest.digest import compute_digest
from ftops.manifest.evaluations import EvaluationEntry, check_evaluations
from ftops.manifest.matrix import expand
from ftops.manifest.model import Manifest
from ftops.manifest.moves import MoveEntry, check_moves
from ftops.manifest.provider_checks import check_providers
from ftops.manifest.schema import (
    API_VERSION,
    EvaluationResource,
    FileResource,
    JobResource,
    ModelResource,
    MovedResource,
)
from ftops.manifest.schema import Document as ResourceDocument
from ftops.manifest.yamlnodes import Document, Pos, YamlLimitError, YamlSyntaxError, iter_documents, unpack
from ftops.providers import project_provider

MANIFEST_SUFFIXES = (".yaml", ".yml")
_CLASSES: dict[str, type[BaseModel]] = {"File": FileResource, "FineTuningJob": JobResource, "Model": ModelResource,
                                        "Evaluation": EvaluationResource, "Moved": MovedResource}
_KIND_ALIASES = {"job": "FineTuningJob", "finetuningjob": "FineTuningJob", "fine-tuning-job": "FineTuningJob",
                 "dataset": "File", "finetunedmodel": "Model", "eval": "Evaluation", "gate": "Evaluation"}


def _shown_path(path: Path, root: Path) -> str:
    try:
        return path.relative_to(root).as_posix()
    except ValueError:
        return str(path)


def discover(paths: Sequence[str | Path], *, root: Path, collector: Collector) -> list[Path]:
    """The manifest files named by ``paths`` (files as given, folders searched), in a stable order."""
    found: list[Path] = []
    for raw in paths:
        path = Path(raw) if Path(raw).is_absolute() else root / raw
        shown = _shown_path(path, root)
        if path.is_dir():
            files = _walk(path)
            if not files:
                collector.at(codes.NO_INPUT, f"no manifest files (*.yaml, *.yml) in {shown}", file=shown,
                             hint="put File, FineTuningJob and Model documents in .yaml files there, or pass a path")
            found.extend(files)
        elif path.is_file():
            found.append(path)
        elif os.path.lexists(path):
            collector.at(codes.UNREADABLE, "not a regular file or folder (a pipe, socket, device or broken link)",
                         file=shown, hint="pass manifest files (*.yaml) or folders of them")
        else:
            collector.at(codes.UNREADABLE, "no such file or directory", file=shown,
                         hint="check the path; manifests default to ./manifests (or `manifests` in ftops.toml)")
    unique: dict[Path, None] = {}
    for f in found:
        unique.setdefault(f.absolute(), None)
    return list(unique)


def _walk(folder: Path) -> list[Path]:
    files: list[Path] = []
    for dirpath, dirnames, names in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))  # prune hidden folders (.git, .ftops)
        files.extend(Path(dirpath) / n for n in names if n.endswith(MANIFEST_SUFFIXES) and not n.startswith("."))
    return sorted(files)


def _read_bytes(path: Path) -> bytes:
    """The file's bytes; only a regular file is read (a FIFO named *.yaml would block, a device never end)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file (a pipe, socket or device)")
    with os.fdopen(fd, "rb") as fh:
        return fh.read()


def _read_text(path: Path, shown: str, collector: Collector) -> str | None:
    try:
        data = _read_bytes(path)
    except OSError as exc:
        collector.at(codes.UNREADABLE, f"cannot read the file: {exc.strerror or exc}", file=shown,
                     hint="check that the file exists and is readable")
        return None
    if b"\x00" in data:
        collector.at(codes.UNREADABLE, "this is a binary file, not YAML text", file=shown,
                     hint="manifests are UTF-8 YAML text; remove the file or fix the path")
        return None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        before = data[: exc.start]
        line, column = before.count(b"\n") + 1, exc.start - (before.rfind(b"\n") + 1) + 1
        collector.at(codes.UNREADABLE, "the file is not valid UTF-8 text", file=shown,
                     pos=Pos(line, column), hint="save the file as UTF-8")
        return None


def _header(doc: Document, source: Source) -> str | None:
    """Check apiVersion and kind; return the kind when it is one we can validate."""
    data: dict[str, Any] = doc.data
    if "apiVersion" not in data:
        source.report(codes.API_VERSION, "apiVersion is missing",
                      hint=f"start the document with apiVersion: {API_VERSION}")
    elif data["apiVersion"] != API_VERSION:
        source.report(codes.API_VERSION, f"unsupported apiVersion {excerpt(data['apiVersion'])}", ("apiVersion",),
                      hint=f"use apiVersion: {API_VERSION}")
    kind = data.get("kind")
    if isinstance(kind, str) and kind in _CLASSES:
        return kind
    choices = list(_CLASSES)
    if kind is None:
        source.report(codes.UNKNOWN_KIND, "kind is missing", hint=f"add kind: one of {', '.join(choices)}")
        return None
    if not isinstance(kind, str):
        source.report(codes.UNKNOWN_KIND, f"kind must be a word, not {excerpt(kind)}", ("kind",),
                      hint=f"use one of: {', '.join(choices)}")
        return None
    guess = _KIND_ALIASES.get(kind.lower()) or did_you_mean(kind, choices)
    hint = f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(choices)}"
    source.report(codes.UNKNOWN_KIND, f"unknown kind {excerpt(kind)}", ("kind",), hint=hint)
    return None


def _address(data: dict[str, Any]) -> str | None:
    kind, meta = data.get("kind"), data.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    if isinstance(kind, str) and kind in MANIFEST_KINDS and isinstance(name, str):
        return f"{MANIFEST_KINDS[kind]}.{name}"
    if kind == "Evaluation" and isinstance(name, str):
        return f"evaluation.{name}"  # not a lock address: only for messages and references
    return None


def _parse_document(doc: Document, shown: str, collector: Collector) -> tuple[ResourceDocument, Source] | None:
    """The validated resource and the Source its later checks report on, or None after reporting why not."""
    source = Source(shown, doc, None, collector)
    if not isinstance(doc.data, dict):
        what = "a list" if isinstance(doc.data, list) else f"a {type(doc.data).__name__}"
        source.report(codes.NOT_A_MAPPING, f"a manifest document must be a mapping, not {what}",
                      hint="each document (separated by ---) needs apiVersion, kind, metadata and spec keys")
        return None
    source.address = _address(doc.data)
    for path, first, again in doc.duplicate_keys:
        collector.at(codes.DUPLICATE_KEY, f"key '{dotted(path)}' is given twice (first at line {first.line})",
                     file=shown, pos=again, address=source.address, hint="remove one; YAML would keep only the last")
    for _path, pos in doc.bad_keys:
        collector.at(codes.WRONG_TYPE, "a mapping key must be plain text", file=shown, pos=pos,
                     address=source.address, hint="write keys as plain words, e.g. learning_rate:")
    kind = _header(doc, source)
    data = dict(doc.data)
    if "location" in data:  # a loader-owned field: users may not set it
        source.report(codes.UNKNOWN_FIELD, "unknown field 'location' in the document", ("location",), key=True,
                      hint="allowed fields here: apiVersion, kind, metadata, spec")
        del data["location"]
    if kind is None:
        return None
    source.references = tuple(raw_references(doc.data))  # checked once every document is read
    collector.sources.append(source)
    if source.address:
        collector.broken.add(source.address)  # until it validates: references to it are not "dangling"
    data["apiVersion"] = API_VERSION  # already reported above; don't report it twice through pydantic
    # Validated with its location (not copied afterwards to add it): one model per document, not two.
    data["location"] = Location(shown, doc.start.line, doc.start.column)
    model = _CLASSES[kind]
    try:
        resource = model.model_validate(data)
    except ValidationError as exc:
        report_validation_errors(exc.errors(), model, source)
        return None
    if doc.duplicate_keys or doc.bad_keys or doc.data.get("apiVersion") != API_VERSION:
        return None
    collector.broken.discard(str(source.address))
    assert isinstance(resource, (FileResource, JobResource, ModelResource, EvaluationResource, MovedResource))
    return resource, source


class _FieldLocations(Mapping[str, Mapping[str, Location]]):
    """address → field path → Location, built per address on first use.

    Only error messages look these up, usually for one resource: building them all up front doubled the
    memory the positions take at 10,000 resources.
    """

    def __init__(self, entries: list[Entry]) -> None:
        self._docs = {e.address: (e.source.file, e.source.doc) for e in entries}
        self._built: dict[str, dict[str, Location]] = {}

    def __getitem__(self, address: str) -> Mapping[str, Location]:
        if address not in self._built:
            file, doc = self._docs[address]
            doc.restore()
            self._built[address] = {dotted(path): Location(file, *unpack(pos))
                                    for path, pos in doc.values.items() if path}
        return self._built[address]

    def __iter__(self) -> Iterator[str]:
        return iter(self._docs)

    def __len__(self) -> int:
        return len(self._docs)


def load_manifests(paths: Sequence[str | Path], *, root: Path) -> Manifest:
    """Load and validate every manifest under ``paths`` (relative ones against ``root``).

    Raises one :class:`ManifestError` carrying every problem found; nothing is partially loaded.
    """
    # Loading allocates hundreds of thousands of small objects and frees almost none: the cyclic GC would
    # rescan them over and over (a quarter of the load time at 10,000 resources). Pause it for the load, then
    # freeze what survives (the manifest lives as long as the command) so later collections skip it.
    enabled = gc.isenabled()
    gc.disable()
    try:
        manifest = _load(paths, root=root)
    finally:
        if enabled:
            gc.enable()
    gc.freeze()
    return manifest


@dataclass
class _Loaded:
    """What the documents read so far gave: diagnostics, resources, renames and evaluation sets."""

    collector: Collector = field(default_factory=Collector)
    entries: list[Entry] = field(default_factory=list)
    moves: list[MoveEntry] = field(default_factory=list)
    evaluations: list[EvaluationEntry] = field(default_factory=list)
    documents: int = 0

    def checkpoint(self) -> Callable[[], None]:
        """A function that forgets everything taken in after now (libyaml failed: the text is read again)."""
        back = self.collector.checkpoint()
        entries, moves, evaluations, documents = len(self.entries), len(self.moves), len(self.evaluations), \
            self.documents

        def rollback() -> None:
            back()
            del self.entries[entries:], self.moves[moves:], self.evaluations[evaluations:]
            self.documents = documents

        return rollback


def _read_file(path: Path, shown: str, text: str, loaded: _Loaded) -> None:
    """Take in every document of one manifest file, one at a time.

    Each document's data and positions are released once it is read (positions come back from a second parse
    only if an error needs them), so a large project never holds every document's data at once.
    """
    collector = loaded.collector
    try:
        for doc in iter_documents(text, on_restart=loaded.checkpoint()):
            if doc.data is None:  # an empty document (a stray or trailing ---)
                continue
            loaded.documents += 1
            _take(doc, path, shown, loaded)
            doc.release()
    except YamlLimitError as exc:
        collector.at(codes.YAML_SYNTAX, f"YAML too large or deep: {exc.message}", file=shown, pos=exc.pos,
                     hint="manifests need only a few levels and a few aliases; write the values out or "
                     "split the document")
    except YamlSyntaxError as exc:
        collector.at(codes.YAML_SYNTAX, f"invalid YAML: {exc.message}", file=shown, pos=exc.pos,
                     hint="check indentation, colons and quotes at that line (tabs are not allowed)")


def _take(doc: Document, path: Path, shown: str, loaded: _Loaded) -> None:
    parsed = _parse_document(doc, shown, loaded.collector)
    if parsed is None:
        return
    # The document's Source already carries the resource's address (None for a Moved declaration).
    resource, source = parsed
    share_fields_sets(resource)
    if isinstance(resource, MovedResource):
        loaded.moves.append(MoveEntry(resource, source))
        return
    if isinstance(resource, EvaluationResource):
        loaded.evaluations.append(EvaluationEntry(resource, source, path.parent))
        return
    # Matrix jobs share their document's Source: a problem in it is reported once, at job.<name>.
    collector = loaded.collector
    expanded = expand(resource, source) if isinstance(resource, JobResource) else [resource]
    if not expanded:
        collector.broken.add(str(source.address))
    for job in expanded[1:] if expanded and expanded[0] is resource else expanded:  # a matrix's new jobs
        share_fields_sets(job)
    loaded.entries.extend(Entry(r, source, path.parent) for r in expanded)


def _load(paths: Sequence[str | Path], *, root: Path) -> Manifest:
    root = Path(root).absolute()
    loaded = _Loaded()
    collector = loaded.collector
    for path in discover(paths, root=root, collector=collector):
        shown = _shown_path(path, root)
        text = _read_text(path, shown, collector)
        if text is not None:
            _read_file(path, shown, text, loaded)
    entries, moves, evaluations, document_count = loaded.entries, loaded.moves, loaded.evaluations, \
        loaded.documents
    if not collector.diagnostics and document_count == 0:
        shown_paths = ", ".join(str(p) for p in paths) or "."
        collector.at(codes.NO_INPUT, "no manifest documents found", file=shown_paths,
                     hint="add File, FineTuningJob and Model documents (see `ftops schema` or examples/manifests)")
    default_provider = project_provider(root)
    check_all(entries, root=root, broken=collector.broken, sources=collector.sources, provider=default_provider)
    check_moves(moves, entries, broken=collector.broken)
    check_evaluations(evaluations, entries, root=root, broken=collector.broken)
    check_providers(entries, default=default_provider)
    if collector.diagnostics:
        raise ManifestError(collector.diagnostics)
    # Sources point back at the collector: without this cycle, everything the load built but the Manifest does
    # not keep is freed at once (load_manifests freezes what survives, and a frozen cycle is never collected).
    collector.sources.clear()
    resources = tuple(e.resource for e in entries)
    moved = tuple(m.resource for m in moves)
    declared = tuple(e.resource for e in evaluations)
    return Manifest(root=root, resources=resources, digest=compute_digest(resources, moved, declared),
                    field_locations=_FieldLocations(entries), moves=moved, evaluations=declared)
