"""One shared ``__pydantic_fields_set__`` per distinct set of field names, for frozen pydantic models.

Pydantic gives every instance its own set of the fields it was given (what ``exclude_unset`` and
``model_fields_set`` read): 216 bytes when small, 728 from five names on — more than the values of most of
our small models. A 10,000-resource plan makes about 100,000 such instances (manifest documents, job specs,
changes), and their sets alone were ~30 MB of its peak memory. A frozen model never changes its set in place
(assignment is refused; ``model_copy`` copies the set before updating it), so frozen instances with the same
fields can share one set object. Models that are not frozen keep their own.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

# frozenset of names → the one set object every frozen model with exactly those fields points at (a few dozen).
_SHARED: dict[frozenset[str], set[str]] = {}


def share_fields_sets(model: BaseModel) -> None:
    """Point ``model`` and every frozen model inside it (fields, lists, tuples) at the shared set of its fields."""
    if model.model_config.get("frozen"):
        fields = model.__pydantic_fields_set__
        shared = _SHARED.setdefault(frozenset(fields), fields)
        if shared is not fields:
            object.__setattr__(model, "__pydantic_fields_set__", shared)
    for value in model.__dict__.values():
        _visit(value)


def _visit(value: Any) -> None:
    if isinstance(value, BaseModel):
        share_fields_sets(value)
    elif isinstance(value, (list, tuple)):
        for item in value:
            if isinstance(item, BaseModel):
                share_fields_sets(item)
