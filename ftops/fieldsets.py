"""One shared ``__pydantic_fields_set__`` per distinct set of field names, for frozen pydantic models.

Pydantic gives every instance its own set of the fields it was given (what ``exclude_unset`` and
``model_fields_set`` read): 216 bytes when small, 728 from five names on — more than the values of most of
our small models. A 10,000-resource plan makes about 100,000 such instances (manifest documents, job specs,
changes), and their sets alone were ~30 MB of its peak memory. A frozen model never changes its set in place
(assignment is refused; ``model_copy`` copies the set before updating it), so frozen instances with the same
fields can share one set object. Models that are not frozen keep their own.
"""

from __future__ import annotations

from typing import Any, get_args

from pydantic import BaseModel

# frozenset of names → the one set object every frozen model with exactly those fields points at (a few dozen).
_SHARED: dict[frozenset[str], set[str]] = {}
# model class → (frozen?, its fields whose type may hold a model): only those are walked, most are plain values.
_CLASSES: dict[type[BaseModel], tuple[bool, tuple[str, ...]]] = {}
_set = object.__setattr__  # pydantic's own way past a frozen model's __setattr__


def share_fields_sets(model: BaseModel) -> None:
    """Point ``model`` and every frozen model inside it (fields, lists, tuples, dicts) at the shared set of its
    fields."""
    cls = type(model)
    frozen, nested = _CLASSES.get(cls) or _learn(cls)
    if frozen:
        fields = model.__pydantic_fields_set__
        key = frozenset(fields)
        shared = _SHARED.get(key)
        if shared is None:
            _SHARED[key] = fields
        elif shared is not fields:
            _set(model, "__pydantic_fields_set__", shared)
    if not nested:
        return
    values = model.__dict__
    for name in nested:
        value = values.get(name)
        if isinstance(value, BaseModel):
            share_fields_sets(value)
        elif isinstance(value, (list, tuple)):
            for item in value:
                if isinstance(item, BaseModel):
                    share_fields_sets(item)
        elif isinstance(value, dict):
            for item in value.values():
                if isinstance(item, BaseModel):
                    share_fields_sets(item)


def _learn(cls: type[BaseModel]) -> tuple[bool, tuple[str, ...]]:
    nested = tuple(name for name, info in cls.model_fields.items() if _holds_model(info.annotation))
    _CLASSES[cls] = learned = (bool(cls.model_config.get("frozen")), nested)
    return learned


def _holds_model(annotation: Any) -> bool:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return True
    return any(_holds_model(arg) for arg in get_args(annotation))
