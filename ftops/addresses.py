"""Resource addresses: the one identity every stage uses (``file.train``, ``job.support-v1``, ``model.support``)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, cast

from ftops.errors import FtopsError

Kind = Literal["file", "job", "model"]
KINDS: tuple[Kind, ...] = ("file", "job", "model")

# Manifest `kind:` ↔ address kind. Order in KINDS is also the dependency order (files → jobs → models).
MANIFEST_KINDS: dict[str, Kind] = {"File": "file", "FineTuningJob": "job", "Model": "model"}


@dataclass(frozen=True, order=True)
class Address:
    kind: Kind
    name: str

    def __str__(self) -> str:
        return f"{self.kind}.{self.name}"

    @property
    def rank(self) -> int:
        return KINDS.index(self.kind)

    @classmethod
    def parse(cls, text: str) -> Address:
        kind, sep, name = text.partition(".")
        if not sep or kind not in KINDS or not name:
            raise FtopsError(
                f"invalid resource address {text!r}",
                hint="write it as KIND.NAME with KIND one of file, job, model (e.g. job.support-v1)",
            )
        return cls(cast(Kind, str(kind)), name)
