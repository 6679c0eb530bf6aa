"""``Manifest.digest``: one hash for "these exact desired resources", binding saved plans to the manifests.

The sha256 of canonical JSON (sorted keys, no whitespace) of every resource sorted by address. Only what the
user set counts (``exclude_unset``) and locations never do, so reformatting, comments, reordering documents
or moving them between files leave the digest unchanged; any change of meaning changes it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable

from ftops.addresses import MANIFEST_KINDS
from ftops.manifest.schema import EvaluationResource, MovedResource, Resource


def canonical_json(resources: Iterable[Resource]) -> str:
    docs = sorted(
        (
            ((MANIFEST_KINDS[r.kind], r.metadata.name), r.model_dump(mode="json", exclude_unset=True))
            for r in resources
        ),
        key=lambda item: item[0],
    )
    return json.dumps([doc for _, doc in docs], sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def compute_digest(resources: Iterable[Resource], moves: Iterable[MovedResource] = (),
                   evaluations: Iterable[EvaluationResource] = ()) -> str:
    """Moved and Evaluation declarations count too (they change the plan); without any, the digest is what it
    always was."""
    text = canonical_json(resources)
    declared = sorted(json.dumps(m.spec.model_dump(mode="json", by_alias=True), sort_keys=True) for m in moves)
    if declared:
        text += "\n" + "\n".join(declared)
    gates = sorted(json.dumps([e.metadata.name, e.spec.model_dump(mode="json", by_alias=True, exclude_unset=True)],
                              sort_keys=True) for e in evaluations)
    if gates:
        text += "\n" + "\n".join(gates)
    return hashlib.sha256(text.encode()).hexdigest()
