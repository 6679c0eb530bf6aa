"""Checks of ``Moved`` declarations (renames), run with the other cross-resource checks.

A declaration ``from: job.a, to: job.b`` says "what the lock tracks as job.a is job.b now". It is only sound
when both addresses have one kind, ``to`` is declared (something must take the object over), ``from`` is not
(else two resources would claim one object), and moves do not chain or loop (``a → b, b → c`` is ambiguous
for a lock that has already applied the first: write ``a → c``). Each problem is reported at its field.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from ftops.manifest import codes
from ftops.manifest._report import Source, did_you_mean
from ftops.manifest.checks import Entry
from ftops.manifest.schema import MovedResource


@dataclass(frozen=True)
class MoveEntry:
    """One loaded Moved document and where it was written."""

    resource: MovedResource
    source: Source

    @property
    def old(self) -> str:
        return self.resource.spec.from_

    @property
    def new(self) -> str:
        return self.resource.spec.to


def check_moves(moves: list[MoveEntry], entries: Iterable[Entry], *, broken: Iterable[str] = ()) -> None:
    entries = list(entries)
    declared = {e.address: e for e in entries}
    exists = set(declared) | set(broken)
    sources = {m.old: m for m in moves}
    seen_from: dict[str, MoveEntry] = {}
    seen_to: dict[str, MoveEntry] = {}
    for move in moves:
        report = move.source.report
        old, new = move.old, move.new
        if old.partition(".")[0] != new.partition(".")[0]:
            report(codes.MOVE_KIND, f"cannot move {old} to {new}: an address keeps its kind", ("spec", "to"),
                   hint=f"write to: {old.partition('.')[0]}.<new name>")
            continue
        if old == new:
            report(codes.MOVE_CHAIN, f"{old} is moved to itself", ("spec", "to"), hint="remove this Moved document")
            continue
        for seen, address, field in ((seen_from, old, "from"), (seen_to, new, "to")):
            if address in seen:
                where = seen[address].source.location(("spec", field))
                report(codes.MOVE_TWICE, f"{address} is already the `{field}` of the Moved at {where}",
                       ("spec", field), hint="keep one Moved document per old and per new address")
            seen.setdefault(address, move)
        if new not in exists:
            guess = did_you_mean(new.partition(".")[2], [a.partition(".")[2] for a in exists
                                                        if a.startswith(new.partition(".")[0] + ".")])
            report(codes.MOVE_TO_MISSING, f"{new} is not declared in the manifests", ("spec", "to"),
                   hint=f"did you mean '{new.partition('.')[0]}.{guess}'?" if guess
                   else "declare the resource under its new metadata.name, or fix `to`")
        if old in declared:
            where = declared[old].source.location(("metadata", "name"))
            report(codes.MOVE_FROM_DECLARED, f"{old} is still declared (at {where})", ("spec", "from"),
                   hint="a moved address is one that is no longer declared: rename that resource, or remove "
                   "this Moved document")
        if new in sources:
            chained = sources[new]
            report(codes.MOVE_CHAIN, f"moves chain: {old} → {new} → {chained.new}", ("spec", "to"),
                   hint=f"move straight to the final address: from: {old}, to: {chained.new} (and keep "
                   f"from: {new}, to: {chained.new} only if a lock may still hold {new})")
