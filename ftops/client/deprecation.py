"""What Mistral deprecated in fine-tuning, said once, in one place.

Mistral's OpenAPI document tags every fine-tuning *job* operation "(deprecated)", dropped
``/v1/fine_tuning/jobs*`` from the public spec in 2026-07, and ``mistralai`` 2.5.2 removed the jobs calls.
Files (``/v1/files``) and fine-tuned models (``/v1/models``, update/archive/unarchive under
``/v1/fine_tuning/models``) remain. The local API (``ftops serve``, the embedded default) keeps serving jobs,
so the warning is only for Mistral's own hosts. See ``docs/mistral-deprecation.md``.
"""

from __future__ import annotations

from urllib.parse import urlsplit

JOBS_PATH = "/v1/fine_tuning/jobs"
DOC = "docs/mistral-deprecation.md"

WARNING = (
    "Warning: Mistral has deprecated its fine-tuning jobs API (job operations are tagged deprecated, the public "
    "spec dropped /v1/fine_tuning/jobs in 2026-07, mistralai 2.5.2 removed the jobs calls). Files and fine-tuned "
    f"models still work; creating, starting or cancelling jobs may fail. See {DOC}."
)


def is_mistral_cloud(base_url: str) -> bool:
    """True for Mistral's own API hosts (api.mistral.ai and its regional names), not a local API."""
    host = (urlsplit(base_url).hostname or "").lower()
    return host == "mistral.ai" or host.endswith(".mistral.ai")


def deprecation_warning(base_url: str) -> str | None:
    """The once-per-run warning for a session that may run job operations against ``base_url``."""
    return WARNING if is_mistral_cloud(base_url) else None


def removed_jobs_endpoint(status: int, call: str, detail: str | None) -> str | None:
    """The explanation when a 404/410 means "this jobs endpoint was removed", else None.

    A 410 on any jobs path, and a 404 on the jobs collection (list/create), cannot mean "no such job". A
    404 on one job (``GET /v1/fine_tuning/jobs/{id}``) normally does ("No fine tuning job matches the given
    query."); only the router's bare ``Not Found`` there means the route itself is gone.
    """
    path = call.partition(" ")[2].split("?")[0].rstrip("/")
    if not path.startswith(JOBS_PATH) or status not in (404, 410):
        return None
    bare = (detail or "").strip().rstrip(".").lower() in ("", "not found", "gone")
    if status == 410 or path == JOBS_PATH or bare:
        return ("The API no longer serves this fine-tuning jobs endpoint: Mistral deprecated the fine-tuning "
                "jobs API (removed from its public spec in 2026-07 and from mistralai 2.5.2)")
    return None
