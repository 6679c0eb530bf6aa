"""The loaded manifest: every resource document, matrix-expanded, with where it came from."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ftops.addresses import MANIFEST_KINDS, Address
from ftops.manifest.schema import FileResource, JobResource, ModelResource, Resource


@dataclass(frozen=True)
class Manifest:
    root: Path  # project root: File paths resolve against their manifest file and must stay inside it
    resources: tuple[Resource, ...]  # in load order; FineTuningJob matrices already expanded
    digest: str  # sha256 of the canonical resource specs (binds saved plans to the manifests)

    def address_of(self, resource: Resource) -> Address:
        return Address(MANIFEST_KINDS[resource.kind], resource.metadata.name)

    @property
    def files(self) -> dict[str, FileResource]:
        return {r.metadata.name: r for r in self.resources if isinstance(r, FileResource)}

    @property
    def jobs(self) -> dict[str, JobResource]:
        return {r.metadata.name: r for r in self.resources if isinstance(r, JobResource)}

    @property
    def models(self) -> dict[str, ModelResource]:
        return {r.metadata.name: r for r in self.resources if isinstance(r, ModelResource)}
