"""C-17: keys are content hashes; nothing outside the storage root is ever read or written.
The S3 back end runs against a moto server on 127.0.0.1."""

from __future__ import annotations

import hashlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from datadam.errors import InputError, NotFound
from datadam.media.local import LocalStore
from datadam.media.store import MediaStore

TRAVERSAL = [
    "../../etc/passwd",
    "..%2f..%2fsentinel.txt",
    "%2e%2e/sentinel.txt",
    "..\\..\\sentinel.txt",
    "/etc/passwd",
    "C:\\Windows\\win.ini",
    "a/../../b",
    "a\x00.png",
    "．．／sentinel.txt",
    "x" * 300,
    "../" + "0" * 64 + ".png",
    "0" * 64 + ".svg",
    "0" * 64 + ".PNG",
    "0" * 63 + ".png",
    "",
    None,
]


@pytest.fixture
def local(tmp_path: Path) -> tuple[LocalStore, Path]:
    sentinel = tmp_path / "sentinel.txt"
    sentinel.write_text(secrets.token_hex(16))
    return LocalStore(tmp_path / "media"), sentinel


def test_put_is_content_addressed_and_idempotent(local: tuple[LocalStore, Path]) -> None:
    store, _ = local
    key = store.put(b"hello", "png")
    assert key == hashlib.sha256(b"hello").hexdigest() + ".png"
    assert store.put(b"hello", "png") == key
    assert store.read(key) == b"hello"
    assert b"".join(store.iter_bytes(key)) == b"hello"
    assert store.size(key) == 5
    with store.as_file(key) as path:
        assert path.read_bytes() == b"hello"


@pytest.mark.parametrize("key", TRAVERSAL)
def test_traversal_keys_are_refused(local: tuple[LocalStore, Path], key: object) -> None:
    store, sentinel = local
    before = (sentinel.read_bytes(), sentinel.stat().st_mtime_ns)
    for call in (store.read, store.exists, store.size, store.iter_bytes):
        with pytest.raises(InputError) as info:
            call(key)  # type: ignore[arg-type]
        assert info.value.code == "invalid_path"
    assert (sentinel.read_bytes(), sentinel.stat().st_mtime_ns) == before


def test_symlink_inside_root_pointing_outside_is_refused(local: tuple[LocalStore, Path]) -> None:
    store, sentinel = local
    key = "ab" + "0" * 62 + ".png"
    folder = store.root / "ab" / "00"
    folder.mkdir(parents=True)
    os.symlink(sentinel, folder / key)
    with pytest.raises(InputError) as info:
        store.read(key)
    assert info.value.code == "invalid_path"


def test_missing_key_is_not_found(local: tuple[LocalStore, Path]) -> None:
    store, _ = local
    with pytest.raises(NotFound):
        store.read("0" * 64 + ".png")


@pytest.fixture(scope="module")
def s3_store() -> Iterator[MediaStore]:
    pytest.importorskip("moto")
    boto3 = pytest.importorskip("boto3")
    from moto.server import ThreadedMotoServer

    from datadam.media.s3 import S3Store

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    client = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",  # noqa: S106 - moto accepts anything
    )
    client.create_bucket(Bucket="media")
    yield S3Store(bucket="media", prefix="datadam/", client=client)
    server.stop()


def test_s3_store_round_trip(s3_store: MediaStore) -> None:
    key = s3_store.put(b"\x89PNG fake", "png")
    assert s3_store.exists(key)
    assert s3_store.read(key) == b"\x89PNG fake"
    assert b"".join(s3_store.iter_bytes(key)) == b"\x89PNG fake"
    assert s3_store.size(key) == 9
    with s3_store.as_file(key) as path:
        assert path.read_bytes() == b"\x89PNG fake"
    with pytest.raises(NotFound):
        s3_store.read("f" * 64 + ".png")
    with pytest.raises(InputError):
        s3_store.read("../" + key)


def test_byte_ranges(local: tuple[LocalStore, Path], s3_store: MediaStore) -> None:
    data = bytes(range(256)) * 10_000
    for store in (local[0], s3_store):
        key = store.put(data, "wav")
        assert b"".join(store.iter_range(key, 1000, 50)) == data[1000:1050]
        assert b"".join(store.iter_range(key, len(data) - 5, 5)) == data[-5:]
        assert (
            b"".join(MediaStore._iter_range(store, key, 1_048_570, 20)) == data[1_048_570:1_048_590]
        )
