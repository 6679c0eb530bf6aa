"""The one error tree of ftops.

Every error a user can see is an :class:`FtopsError`: it carries a message, *where* the problem is (a
``file:line:column``, a resource address, a lock file path, an endpoint) and a *hint* that names the fix.
The CLI prints :meth:`FtopsError.render` and exits 1; it never shows a traceback for these.

::

    FtopsError
    ├── ConfigError               settings, endpoint, API key, project config file
    ├── ManifestError             one or more Diagnostics from loading/validating manifests
    ├── DatasetError              a training-data file cannot be read or is invalid
    ├── StateError                the lock file: corrupt, truncated, newer format, lineage mismatch
    │   └── RunLockHeld           another apply holds the run lock
    ├── PlanFileError             a saved plan is stale, already applied, corrupt or for another project
    ├── PolicyError               the plan breaks a policy (e.g. cost limit)
    ├── ApplyError                apply stopped (ambiguous adoption, failed step); the lock is consistent
    └── ApiError                  the API answered with an error or could not be reached
        ├── AuthenticationError   401/403
        ├── NotFoundError         404
        ├── ConflictError         409
        ├── ValidationFailed      400/422
        ├── PayloadTooLarge       413
        ├── RateLimited           429 (retry_after seconds when given)
        ├── ServerError           5xx
        └── TransportError        connection refused, timeout, dropped response
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Location:
    """A place in a text file, 1-based like editors show it."""

    file: str
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        out = self.file
        if self.line is not None:
            out += f":{self.line}"
            if self.column is not None:
                out += f":{self.column}"
        return out


@dataclass(frozen=True)
class Diagnostic:
    """One problem found in user input, with a stable code so docs can explain each one."""

    code: str
    message: str
    location: Location | None = None
    address: str | None = None
    hint: str | None = None

    def render(self) -> str:
        where = " ".join(p for p in (str(self.location) if self.location else "", self.address or "") if p)
        head = f"{where}: " if where else ""
        text = f"{head}error[{self.code}]: {self.message}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class FtopsError(Exception):
    """Root of every user-facing error."""

    exit_code = 1

    def __init__(self, message: str, *, where: str | None = None, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.where = where
        self.hint = hint

    def render(self) -> str:
        text = f"{self.where}: {self.message}" if self.where else self.message
        text = f"Error: {text}"
        if self.hint:
            text += f"\n  hint: {self.hint}"
        return text


class ConfigError(FtopsError):
    pass


class ManifestError(FtopsError):
    """Carries every diagnostic found, so the user fixes them all in one round."""

    def __init__(self, diagnostics: list[Diagnostic]) -> None:
        count = len(diagnostics)
        super().__init__(f"{count} error{'s' if count != 1 else ''} in manifests")
        self.diagnostics = diagnostics

    def render(self) -> str:
        lines = [d.render() for d in self.diagnostics]
        lines.append(f"Error: {self.message}; nothing was changed.")
        return "\n".join(lines)


class DatasetError(FtopsError):
    pass


class StateError(FtopsError):
    pass


class RunLockHeld(StateError):
    pass


class PlanFileError(FtopsError):
    pass


class PolicyError(FtopsError):
    pass


class ApplyError(FtopsError):
    pass


class ApiError(FtopsError):
    """An error answer (or no answer) from the fine-tuning API. Messages never contain the API key."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None = None,
        body: object = None,
        where: str | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, where=where, hint=hint)
        self.status_code = status_code
        self.body = body


class AuthenticationError(ApiError):
    pass


class NotFoundError(ApiError):
    pass


class ConflictError(ApiError):
    pass


class ValidationFailed(ApiError):
    pass


class PayloadTooLarge(ApiError):
    pass


class RateLimited(ApiError):
    def __init__(self, message: str, *, retry_after: float | None = None, **kw: object) -> None:
        super().__init__(message, **kw)  # type: ignore[arg-type]
        self.retry_after = retry_after


class ServerError(ApiError):
    pass


class TransportError(ApiError):
    pass
