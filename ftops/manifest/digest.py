"""``Manifest.digest``: one hash for "these exact desired resources", binding saved plans to the manifests.

The sha256 of canonical JSON (sorted keys, no whitespace) of every resource sorted by address. Only what the
user set counts (``exclude_unset``) and locations never do, so reformatting, comments, reordering documents
or moving them between files leave the digest unchanged; any change of meaning changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Iterator

from ftops.addresses import MANIFEST_KINDS
from ftops.manifest.schema import EvaluationResource, MovedResource, Resource


def canonical_json(resources: Iterable[Resource]) -> str:
    return "".join(_canonical_pieces(resources))


def _canonical_pieces(resources: Iterable[Resource]) -> Iterator[str]:
    """The canonical JSON list, one resource at a time (10,000 dumps held at once cost more than the resources)."""
    ordered = sorted(resources, key=lambda r: (MANIFEST_KINDS[r.kind], r.metadata.name))
    yield "["
    for i, r in enumerate(ordered):
        doc = json.dumps(r.model_dump(mode="json", exclude_unset=True), sort_keys=True, separators=(",", ":"),
                         ensure_ascii=False)
        yield "," + doc if i else doc
    yield "]"


def compute_digest(resources: Iterable[Resource], moves: Iterable[MovedResource] = (),
                   evaluations: Iterable[EvaluationResource] = ()) -> str:
    """Moved and Evaluation declarations count too (they change the plan); without any, the digest is what it
    always was."""
    digest = hashlib.sha256()
    for piece in _canonical_pieces(resources):
        digest.update(piece.encode())
    text = ""
    declared = sorted(json.dumps(m.spec.model_dump(mode="json", by_alias=True), sort_keys=True) for m in moves)
    if declared:
        text += "\n" + "\n".join(declared)
    gates = sorted(json.dumps([e.metadata.name, e.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)],
                              sort_keys=True) for e in evaluations)
    if gates:
        text += "\n" + "\n".join(gates)
    digest.update(text.encode())
    return digest.hexdigest()
