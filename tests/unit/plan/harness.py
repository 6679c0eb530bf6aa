"""Turns one YAML case (manifest docs, a terse lock, a live snapshot) into build_plan inputs.

Hashing is injected: a File's sha256 is the sha256 of its *path text* unless the case's ``hashes`` (or
``hashes_before``) names one, so cases can say "the content changed" without writing datasets. The lock is
written tersely and completed the way apply records it: fingerprints and attributes come from the ``before``
manifests (default: the current ones), i.e. what was last applied.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import TypeAdapter

from ftops.client.models import RemoteFile, RemoteJob, RemoteModel
from ftops.desired import Desired, build_desired
from ftops.live import LiveSnapshot
from ftops.manifest.model import Manifest
from ftops.manifest.schema import Resource
from ftops.plan._files import file_after
from ftops.plan._jobs import job_after
from ftops.plan._models import model_after
from ftops.plan.build import build_plan
from ftops.plan.model import Plan
from ftops.state.model import LockedResource, LockFile

CASES = Path(__file__).parent / "cases"
_RESOURCES: TypeAdapter[list[Resource]] = TypeAdapter(list[Resource])
_PLACEHOLDER = re.compile(r"\{(sha|upload|fp|bytes):([^}]+)\}")


class FakeHashes:
    def __init__(self, overrides: dict[str, str]) -> None:
        self.overrides = overrides
        self.calls = 0

    def sha256(self, path: Path) -> str:
        self.calls += 1
        return self.overrides.get(path.name) or hashlib.sha256(path.name.encode()).hexdigest()


def _desired(docs: list[dict[str, Any]], root: Path, hashes: dict[str, str]) -> Desired:
    resources = tuple(_RESOURCES.validate_python(docs))
    for r in resources:
        if r.kind == "File":
            target = root / r.spec.path
            target.parent.mkdir(parents=True, exist_ok=True)
            if not target.exists():
                target.write_text('{"messages": []}\n' * 10)
    manifest = Manifest(root=root, resources=resources, digest="d" * 64)
    return build_desired(manifest, hashes=FakeHashes(hashes), tokens=None)


def _resolve(value: Any, desired: Desired) -> Any:
    if isinstance(value, str):
        def sub(m: re.Match[str]) -> str:
            kind, address = m.group(1), m.group(2)
            if kind == "fp":
                return desired.jobs[address].fingerprint
            f = desired.files[address]
            return {"sha": f.sha256, "upload": f.upload_name, "bytes": str(f.bytes)}[kind]
        out = _PLACEHOLDER.sub(sub, value)
        return int(out) if value.startswith("{bytes:") else out
    if isinstance(value, list):
        return [_resolve(v, desired) for v in value]
    if isinstance(value, dict):
        return {k: _resolve(v, desired) for k, v in value.items()}
    return value


def _recorded(address: str, before: Desired) -> tuple[str, dict[str, Any]]:
    """(fingerprint, attributes) as apply records them for what the ``before`` manifests declared."""
    if address in before.files:
        return before.files[address].sha256, file_after(before.files[address])
    if address in before.jobs:
        return before.jobs[address].fingerprint, job_after(before.jobs[address])
    if address in before.models:
        return before.models[address].job, model_after(before.models[address])
    return "0" * 64, {}


def _lock(case: dict[str, Any], before: Desired) -> LockFile | None:
    if "lock" not in case:
        return None
    resources: dict[str, LockedResource] = {}
    for address, raw in (case["lock"] or {}).items():
        kind = address.split(".", 1)[0]
        entry = dict(_resolve(raw, before))
        fingerprint, recorded = _recorded(address, before)
        attributes = {**recorded, **(entry.pop("attributes", None) or {})}
        entry.setdefault("fingerprint", fingerprint)
        resources[address] = LockedResource(kind=kind, attributes=attributes, **entry)
    return LockFile(lineage="lineage-1", serial=case.get("serial", 3), endpoint="local", resources=resources)


def _live(raw: dict[str, Any], desired: Desired) -> LiveSnapshot:
    raw = _resolve(raw or {}, desired)
    files = {}
    for f in raw.get("files", []):
        f.setdefault("created_at", 1000)
        if "bytes" not in f:
            match = [d.bytes for d in desired.files.values() if d.upload_name == f.get("filename")]
            f["bytes"] = match[0] if match else 1
        f.setdefault("purpose", "fine-tune")
        files[f["id"]] = RemoteFile.model_validate(f)
    jobs = {}
    for j in raw.get("jobs", []):
        j.setdefault("model", "open-mistral-7b")
        j.setdefault("created_at", 1000)
        j.setdefault("modified_at", 1000)
        jobs[j["id"]] = RemoteJob.model_validate(j)
    models = {m["id"]: RemoteModel.model_validate(m) for m in raw.get("models", [])}
    return LiveSnapshot(endpoint="http://127.0.0.1:1", files=files, jobs=jobs, models=models, fetched_at=5000.0)


def load_case(name: str) -> dict[str, Any]:
    data = yaml.safe_load((CASES / name).read_text())
    assert isinstance(data, dict), name
    return data


def plan_for(case: dict[str, Any], root: Path) -> tuple[Plan, Desired]:
    desired = _desired(case["desired"], root, case.get("hashes", {}))
    before_docs = case.get("before", case["desired"])
    before = _desired(before_docs, root, case.get("hashes_before", case.get("hashes", {}))) if before_docs else desired
    plan = build_plan(desired, _lock(case, before), _live(case.get("live", {}), desired),
                      plan_id="plan-1", now=6000.0, endpoint_identity="local", targets=case.get("targets"),
                      replace=case.get("replace", ()))
    return plan, desired
