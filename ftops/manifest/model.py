"""The loaded manifest: every resource document, matrix-expanded, with where it came from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ftops.addresses import MANIFEST_KINDS, Address
from ftops.errors import Location
from ftops.manifest.schema import (
    EvaluationResource,
    FileResource,
    JobResource,
    ModelResource,
    MovedResource,
    Resource,
)


@dataclass(frozen=True)
class Manifest:
    root: Path  # project root: File paths resolve against their manifest file and must stay inside it
    resources: tuple[Resource, ...]  # in load order; FineTuningJob matrices already expanded
    digest: str  # sha256 of the canonical resource specs (binds saved plans to the manifests)
    # address → dotted field path ("spec.path", "spec.training_files[0].file") → where it is written.
    field_locations: Mapping[str, Mapping[str, Location]] = field(default_factory=dict, compare=False, repr=False)
    moves: tuple[MovedResource, ...] = ()  # Moved declarations (renames), checked by ftops.manifest.moves
    evaluations: tuple[EvaluationResource, ...] = ()  # Evaluation sets (gates), checked by manifest.evaluations

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

    def evaluation_path(self, evaluation: EvaluationResource) -> Path:
        """Absolute path of an Evaluation's set: ``spec.path`` is relative to the manifest file that names it."""
        manifest_file = Path(evaluation.location.file) if evaluation.location else Path("manifest.yaml")
        return (self.root / manifest_file).parent.joinpath(evaluation.spec.path).resolve()

    def location_of(self, address: Address | str, field_path: str | None = None) -> Location | None:
        """Where a resource (or one of its fields, e.g. ``spec.path``) is written, for error messages."""
        key = str(address)
        if field_path is not None:
            found = self.field_locations.get(key, {}).get(field_path)
            if found is not None:
                return found
        for r in self.resources:
            if str(self.address_of(r)) == key:
                return r.location
        return None

    def file_path(self, file: FileResource | str) -> Path:
        """Absolute path of a File's dataset: ``spec.path`` is relative to the manifest file that names it."""
        resource = self.files[file] if isinstance(file, str) else file
        manifest_file = Path(resource.location.file) if resource.location else Path("manifest.yaml")
        return (self.root / manifest_file).parent.joinpath(resource.spec.path).resolve()
