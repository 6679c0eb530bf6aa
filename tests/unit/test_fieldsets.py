"""Frozen models share one set of their given fields; what pydantic does with that set stays the same."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from ftops.fieldsets import share_fields_sets
from ftops.plan.model import Action, Change, Cost


class _Loose(BaseModel):  # not frozen: assignment would add to its own set
    a: int = 0
    b: int = 0


def _upload(address: str) -> Change:
    return Change(address=address, kind="file", action=Action.UPLOAD, reasons=["new"])


def test_frozen_models_with_the_same_fields_share_one_set() -> None:
    first, second = _upload("file.a"), _upload("file.b")
    costed = Change(address="job.j", kind="job", action=Action.CREATE, cost=Cost(cost=4.0))
    for change in (first, second, costed):
        share_fields_sets(change)
    assert first.model_fields_set is second.model_fields_set
    assert costed.model_fields_set is not first.model_fields_set
    assert costed.model_fields_set == {"address", "kind", "action", "cost"}
    assert costed.cost is not None and costed.cost.model_fields_set == {"cost"}  # nested models are shared too


def test_sharing_changes_nothing_pydantic_reads() -> None:
    first, second = _upload("file.a"), _upload("file.b")
    share_fields_sets(first)
    share_fields_sets(second)
    copied = first.model_copy(update={"remote_id": "f1"})  # copies the set before adding to it
    assert copied.model_fields_set == {"address", "kind", "action", "reasons", "remote_id"}
    assert second.model_fields_set == {"address", "kind", "action", "reasons"}
    assert second.model_dump(exclude_unset=True) == {"address": "file.b", "kind": "file", "action": Action.UPLOAD,
                                                     "reasons": ["new"]}


def test_models_that_are_not_frozen_keep_their_own_set() -> None:
    one, two = _Loose(a=1), _Loose(a=2)
    share_fields_sets(one)
    share_fields_sets(two)
    two.b = 3
    assert one.model_fields_set == {"a"}
    assert two.model_fields_set == {"a", "b"}


def test_models_inside_lists_and_dicts_are_reached() -> None:
    class Holder(BaseModel):
        model_config = ConfigDict(frozen=True)
        items: list[Cost]
        by_name: dict[str, Cost]

    holder = Holder(items=[Cost(cost=1.0)], by_name={"x": Cost(cost=2.0)})
    share_fields_sets(holder)
    assert holder.items[0].model_fields_set is holder.by_name["x"].model_fields_set
