"""The official SDK drives every files endpoint of the local API over HTTP."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest


def test_upload_returns_every_required_field_and_dedupes(sdk: Any, tmp_path: Path) -> None:
    path = sdk.chat_file(tmp_path, f"files-{uuid.uuid4().hex[:6]}.jsonl", 4)
    first = sdk.upload(path)
    assert first.object == "file" and first.model_dump(by_alias=True)["bytes"] == path.stat().st_size
    assert first.filename == path.name and first.purpose == "fine-tune"
    assert first.sample_type == "instruct" and first.source == "upload" and first.num_lines == 4
    again = sdk.upload(path)
    assert again.id == first.id  # same name and bytes: the existing file comes back


def test_list_retrieve_url_download_delete(sdk: Any, tmp_path: Path) -> None:
    tag = uuid.uuid4().hex[:8]
    paths = [sdk.chat_file(tmp_path, f"list-{tag}-{i}.jsonl", 2, salt=str(i)) for i in range(3)]
    ids = [sdk.upload(p).id for p in paths]

    page = sdk.client.files.list(search=tag, page=0, page_size=2)
    assert page.total == 3 and len(page.data) == 2 and page.object == "list"
    assert [f.id for f in page.data] == ids[::-1][:2]  # newest first
    assert len(sdk.client.files.list(search=tag, page=1, page_size=2).data) == 1
    filtered = sdk.client.files.list(search=tag, purpose="fine-tune", sample_type=["instruct", "pretrain"],
                                     source=["upload"], mimetypes=["application/jsonl"])
    assert filtered.total == 3
    assert sdk.client.files.list(search=tag, source=["mistral"]).total == 0

    got = sdk.client.files.retrieve(file_id=ids[0])
    assert got.id == ids[0] and got.deleted is False
    url = sdk.client.files.get_signed_url(file_id=ids[0], expiry=1)
    assert url.url.startswith(sdk.server.url)
    body = sdk.client.files.download(file_id=ids[0])
    assert body.read() == paths[0].read_bytes()

    gone = sdk.client.files.delete(file_id=ids[0])
    assert gone.id == ids[0] and gone.deleted is True
    with pytest.raises(sdk.SDKError) as err:
        sdk.client.files.retrieve(file_id=ids[0])
    assert err.value.status_code == 404
    assert sdk.client.files.list(search=tag).total == 2


def test_wrong_key_is_401(sdk: Any) -> None:
    bad = sdk.Mistral(api_key="not-the-key", server_url=sdk.server.url)
    with pytest.raises(sdk.SDKError) as err:
        bad.files.list()
    assert err.value.status_code == 401
    assert "not-the-key" not in str(err.value)
