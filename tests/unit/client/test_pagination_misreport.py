"""Pagination stops safely when a server misreports ``total`` (a tiny real HTTP server plays the bad API)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from ftops.client import MistralClient, RetryPolicy

Pager = Callable[[int, int], dict[str, Any]]


def _file(i: int) -> dict[str, Any]:
    return {"id": f"file-{i}", "filename": f"f{i}.jsonl", "bytes": 1, "created_at": 1}


@pytest.fixture
def serve() -> Iterator[Callable[[Pager], str]]:
    servers: list[ThreadingHTTPServer] = []

    def start(pager: Pager) -> str:
        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                query = parse_qs(urlsplit(self.path).query)
                body = json.dumps(pager(int(query["page"][0]), int(query["page_size"][0]))).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
        servers.append(httpd)
        return f"http://127.0.0.1:{httpd.server_address[1]}"

    yield start
    for httpd in servers:
        httpd.shutdown()
        httpd.server_close()


def _list(url: str) -> tuple[list[str], int]:
    with MistralClient(url, "k", retry=RetryPolicy.none()) as client:
        ids = [f.id for f in client.list_files()]
        return ids, client.request_count


def test_total_too_high_stops_at_the_short_page(serve: Callable[[Pager], str]) -> None:
    def pager(page: int, size: int) -> dict[str, Any]:
        items = [_file(i) for i in range(page * size, min(150, (page + 1) * size))]
        return {"data": items, "object": "list", "total": 1000}

    ids, requests = _list(serve(pager))
    assert len(ids) == 150 and requests == 2


def test_total_too_low_with_endless_pages_is_bounded(serve: Callable[[Pager], str]) -> None:
    def pager(page: int, size: int) -> dict[str, Any]:
        return {"data": [_file(i) for i in range(page * size, (page + 1) * size)], "object": "list", "total": 120}

    ids, requests = _list(serve(pager))
    assert requests <= 3 and len(ids) == len(set(ids)) >= 120


def test_a_server_repeating_the_same_page_stops(serve: Callable[[Pager], str]) -> None:
    ids, requests = _list(serve(lambda page, size: {"data": [_file(i) for i in range(size)], "object": "list"}))
    assert len(ids) == 100 and requests == 2


def test_missing_total_reads_until_a_short_page(serve: Callable[[Pager], str]) -> None:
    def pager(page: int, size: int) -> dict[str, Any]:
        return {"data": [_file(i) for i in range(page * size, min(250, (page + 1) * size))], "object": "list"}

    ids, requests = _list(serve(pager))
    assert len(ids) == 250 and requests == 3
