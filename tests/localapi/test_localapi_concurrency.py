"""Many clients at once: no errors, no lost and no duplicated writes."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import httpx
from localapi_kit import Local, chat_lines

THREADS = 16
REQUESTS = 250  # 16 × 250 = 4,000 mixed requests (~25 s on 2 cores); bounded so the suite stays fast


def test_concurrent_mixed_traffic(local: Local) -> None:
    errors: list[str] = []
    uploaded: list[str] = []
    jobs: list[str] = []
    lock = threading.Lock()

    def worker(n: int) -> None:
        with httpx.Client(base_url=local.server.url, headers=dict(local.http.headers), timeout=60) as http:
            my_file = None
            for i in range(REQUESTS):
                kind = i % 10
                if kind == 0 or my_file is None:
                    r = http.post("/v1/files", files={"file": (f"t{n}-{i}.jsonl", chat_lines(2, salt=f"{n}-{i}"))})
                    if r.status_code == 200:
                        my_file = r.json()["id"]
                        with lock:
                            uploaded.append(my_file)
                elif kind == 1:
                    r = http.post("/v1/fine_tuning/jobs", json={
                        "model": "open-mistral-7b", "hyperparameters": {"training_steps": 1 + i},
                        "training_files": [{"file_id": my_file}], "suffix": f"t{n}"})
                    if r.status_code == 200:
                        with lock:
                            jobs.append(r.json()["id"])
                elif kind in (2, 3):
                    r = http.get("/v1/fine_tuning/jobs", params={"suffix": f"t{n}", "page_size": 5})
                elif kind == 4 and jobs:
                    r = http.get(f"/v1/fine_tuning/jobs/{jobs[-1]}")
                elif kind == 5:
                    r = http.get("/v1/models")
                else:
                    r = http.get("/v1/files", params={"page_size": 10})
                if r.status_code != 200:
                    with lock:
                        errors.append(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text[:200]}")

    with ThreadPoolExecutor(THREADS) as pool:
        list(pool.map(worker, range(THREADS)))

    assert errors == []
    assert len(set(uploaded)) == len(uploaded) == THREADS * REQUESTS // 10
    assert len(set(jobs)) == len(jobs) == THREADS * REQUESTS // 10
    assert local.http.get("/v1/files", params={"page_size": 1}).json()["total"] == len(uploaded)
    assert local.http.get("/v1/fine_tuning/jobs", params={"page_size": 1}).json()["total"] == len(jobs)
