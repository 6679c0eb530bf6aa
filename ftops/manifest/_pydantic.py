"""Pydantic validation errors → manifest diagnostics at the exact YAML node, with a fix.

Pydantic says *what* is wrong and at which ``loc`` (``spec.hyperparameters.learning_rte``); this module
finds the node for that ``loc``, picks a stable code, and writes the hint: a did-you-mean against the
model's own field names, the field's documented range, or the allowed choices. Input values are echoed
only when short and never under ``integrations`` (that is where a pasted secret would be).
"""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic_core import ErrorDetails

from ftops.manifest import codes
from ftops.manifest._report import Source, did_you_mean, dotted
from ftops.manifest.schema import NAME_PATTERN

_RANGE_ERRORS = {
    "greater_than", "greater_than_equal", "less_than", "less_than_equal", "too_short", "too_long",
    "string_too_short", "string_too_long",
}
_CHOICE_ERRORS = {"literal_error", "enum"}
_NAME_HINT = (
    "use lowercase letters, digits, '.', '_' and '-', starting and ending with a letter or digit, at most 63 "
    f"characters (pattern {NAME_PATTERN})"
)
SECRET_HINT = "put the key in an environment variable and name it in api_key_env (e.g. api_key_env: WANDB_API_KEY)"


def _branch(tp: Any, part: str | int) -> Any:
    """The type one step down ``tp`` along ``part`` (a field name or a list index), None when unknown."""
    origin = get_origin(tp)
    if origin in (Union, types.UnionType):
        for arg in get_args(tp):
            found = _branch(arg, part)
            if found is not None:
                return found
        return None
    if isinstance(part, int):
        return get_args(tp)[0] if origin is list and get_args(tp) else None
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        info = tp.model_fields.get(part)
        return info.annotation if info else None
    if origin is dict and get_args(tp):
        return get_args(tp)[1]
    return None


def _model_at(root: type[BaseModel], path: tuple[str | int, ...]) -> type[BaseModel] | None:
    tp: Any = root
    for part in path:
        tp = _branch(tp, part)
        if tp is None:
            return None
    if get_origin(tp) in (Union, types.UnionType):
        tp = next((a for a in get_args(tp) if isinstance(a, type) and issubclass(a, BaseModel)), None)
    return tp if isinstance(tp, type) and issubclass(tp, BaseModel) else None


def _field_description(root: type[BaseModel], path: tuple[str | int, ...]) -> str | None:
    if not path or isinstance(path[-1], int):
        return None
    parent = _model_at(root, path[:-1])
    info = parent.model_fields.get(path[-1]) if parent else None
    return info.description if info else None


def user_fields(model: type[BaseModel]) -> list[str]:
    """Fields a user may write (the loader-owned ``location`` is not one of them)."""
    return [info.alias or name for name, info in model.model_fields.items() if name != "location"]


def _shown(value: Any, path: tuple[str | int, ...]) -> str:
    if "integrations" in path:
        return ""
    text = repr(value)
    return f" (got {text})" if len(text) <= 60 else f" (got a {type(value).__name__})"


def report_validation_errors(errors: list[ErrorDetails], model: type[BaseModel], source: Source) -> None:
    """Report every pydantic error of one document (a pasted ``api_key`` hides the missing ``api_key_env``)."""
    pasted = {tuple(e["loc"][:-1]) for e in errors if e["type"] == "extra_forbidden" and e["loc"][-1] == "api_key"}
    for err in errors:
        if err["type"] == "missing" and err["loc"][-1] == "api_key_env" and tuple(err["loc"][:-1]) in pasted:
            continue
        report_validation_error(err, model, source)


def report_validation_error(err: ErrorDetails, model: type[BaseModel], source: Source) -> None:
    """Turn one pydantic error on a document validated as ``model`` into a diagnostic on ``source``."""
    path = tuple(p for p in err["loc"] if isinstance(p, (str, int)))
    kind = err["type"]
    where = dotted(path)
    if kind == "extra_forbidden":
        _unknown_field(model, path, source)
    elif kind == "missing":
        if path in (("metadata",), ("metadata", "name")):
            source.report(codes.MISSING_NAME, "metadata.name is missing", path[:-1], key=True,
                          hint="every resource needs metadata.name; references use it")
        else:
            parent = dotted(path[:-1]) or "the document"
            description = _field_description(model, path)
            source.report(codes.MISSING_FIELD, f"missing required field '{path[-1]}' in {parent}", path[:-1],
                          key=True, hint=f"add {path[-1]}: {description}" if description else f"add {path[-1]}")
    elif kind == "string_pattern_mismatch" and path == ("metadata", "name"):
        source.report(codes.BAD_NAME, f"invalid metadata.name{_shown(err['input'], path)}", path, hint=_NAME_HINT)
    elif kind in _RANGE_ERRORS:
        description = _field_description(model, path)
        source.report(codes.OUT_OF_RANGE, f"{where}: {err['msg']}{_shown(err['input'], path)}", path,
                      hint=description)
    elif kind in _CHOICE_ERRORS:
        expected = str((err.get("ctx") or {}).get("expected", ""))
        choices = [c.strip().strip("'") for c in expected.replace(" or ", ",").split(",") if c.strip()]
        guess = did_you_mean(err["input"], choices)
        hint = f"did you mean '{guess}'?" if guess else f"use one of: {', '.join(choices)}"
        source.report(codes.INVALID_VALUE, f"{where}: {err['msg']}{_shown(err['input'], path)}", path, hint=hint)
    else:
        description = _field_description(model, path)
        source.report(codes.WRONG_TYPE, f"{where or 'document'}: {err['msg']}{_shown(err['input'], path)}", path,
                      hint=description)


def _unknown_field(model: type[BaseModel], path: tuple[str | int, ...], source: Source) -> None:
    key = path[-1]
    parent = _model_at(model, path[:-1])
    allowed = user_fields(parent) if parent else []
    if key == "api_key" and "integrations" in path:
        source.report(codes.LITERAL_SECRET, f"{dotted(path)}: the W&B key must not be written in a manifest", path,
                      key=True, hint=SECRET_HINT)
        return
    where = dotted(path[:-1]) or "the document"
    guess = did_you_mean(key, allowed)
    hint: str | None
    if guess and guess != key:
        hint = f"did you mean '{guess}'?"
    else:
        hint = f"allowed fields here: {', '.join(allowed)}" if allowed else None
    source.report(codes.UNKNOWN_FIELD, f"unknown field '{key}' in {where}", path, key=True, hint=hint)
