"""Moved declarations at plan time: a pure step on the lock view, before the per-kind planners run.

For each declared ``from → to`` whose ``from`` the lock still tracks, the view tracks the object at ``to``
instead (:func:`ftops.state.moves.relocate`, the very function apply's lock write uses) and the plan gets a
``MOVE`` change. The per-kind planners then compare the renamed resource with the object it already has, so a
rename alone plans nothing else: no upload, no new paid job. A declaration the lock has already applied
(``from`` untracked) is silently satisfied; one whose ``to`` is tracked too is ambiguous and stops the plan.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ftops.addresses import Address
from ftops.errors import FtopsError
from ftops.plan.model import Action, Change, Reason
from ftops.state.model import LockFile
from ftops.state.moves import relocate


def apply_moves(
    moves: Sequence[tuple[str, str]], lock: LockFile | None, suffixes: Mapping[str, str] | None = None
) -> tuple[LockFile | None, list[Change]]:
    """The lock as the planners should see it, and one MOVE change per move still to record.

    ``suffixes`` (job address → desired suffix) lets a move warn that the renamed job's default suffix
    (its name) changed with the name, which the job planner will show as a replacement.
    """
    if lock is None or not any(old in lock.resources for old, _ in moves):
        return lock, []
    view = lock.model_copy(deep=True)
    changes: list[Change] = []
    for old, new in moves:
        if old not in view.resources:
            continue
        if new in view.resources:
            raise FtopsError(
                f"Moved {old} → {new}: the lock tracks both addresses "
                f"({view.resources[old].remote_id} and {view.resources[new].remote_id})",
                where=new,
                hint=f"keep one: `ftops state rm {old}` (the object stays on the API) or `ftops state rm {new}`, "
                "then plan again; or remove the Moved document",
            )
        resource = relocate(view, old, new)
        reasons = [f"moved from {old} (a Moved declaration)"]
        recorded = resource.attributes.get("suffix")
        wanted = (suffixes or {}).get(new)
        if recorded and wanted and recorded != wanted:
            reasons.append(f"its suffix was {recorded!r} and is now {wanted!r} (a job's suffix defaults to its "
                           f"name): set `suffix: {recorded}` in {new} to keep this job instead of replacing it")
        changes.append(Change(
            address=new, kind=Address.parse(new).kind, action=Action.MOVE, remote_id=resource.remote_id,
            before={"address": old}, after={"address": new}, reason=Reason.MOVED, reasons=reasons,
        ))
    return view, changes
