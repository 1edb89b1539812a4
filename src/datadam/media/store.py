"""The media store interface, shared by the local-folder and S3 back ends.

Objects are immutable and keyed by their content: `<sha256 hex>.<ext>`, where `ext` is the
type the validator detected (never a name a user chose). A key is checked against that shape
before any back end sees it, so a key can never name a path or an object outside the store.
"""

from __future__ import annotations

import hashlib
import re
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import AbstractContextManager
from pathlib import Path

from datadam.errors import InputError, NotFound
from datadam.settings import Settings

#: Extensions a stored object may have, with the Content-Type it is served as.
CONTENT_TYPES = {
    "png": "image/png",
    "jpg": "image/jpeg",
    "webp": "image/webp",
    "wav": "audio/wav",
    "edf": "application/octet-stream",
    "bdf": "application/octet-stream",
}
_KEY = re.compile(r"[0-9a-f]{64}\.(?:" + "|".join(CONTENT_TYPES) + r")")
CHUNK = 1024 * 1024


def make_key(data: bytes, ext: str) -> str:
    """The content key of `data` stored as type `ext`."""
    if ext not in CONTENT_TYPES:
        raise InputError(f"media type {ext!r} is not stored", field="file")
    return f"{hashlib.sha256(data).hexdigest()}.{ext}"


def check_key(key: object) -> str:
    """`key` if it has the exact shape of a content key; InputError `invalid_path` otherwise."""
    if not isinstance(key, str) or _KEY.fullmatch(key) is None:
        raise InputError("not a media key", field="media", code="invalid_path")
    return key


def content_type_of(key: str) -> str:
    return CONTENT_TYPES[check_key(key).rsplit(".", 1)[1]]


class MediaStore(ABC):
    """Content-addressed, write-once object storage."""

    @abstractmethod
    def _put(self, key: str, data: bytes) -> None: ...

    @abstractmethod
    def _exists(self, key: str) -> bool: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...

    @abstractmethod
    def _iter(self, key: str) -> Iterator[bytes]: ...

    @abstractmethod
    def _size(self, key: str) -> int: ...

    @abstractmethod
    def _as_file(self, key: str) -> AbstractContextManager[Path]: ...

    def put(self, data: bytes, ext: str) -> str:
        """Store `data` (already validated as `ext`) and return its key; idempotent."""
        key = make_key(data, ext)
        if not self._exists(key):
            self._put(key, data)
        return key

    def exists(self, key: str) -> bool:
        return self._exists(check_key(key))

    def read(self, key: str) -> bytes:
        """The whole object; NotFound if absent."""
        return self._read(check_key(key))

    def iter_bytes(self, key: str) -> Iterator[bytes]:
        """The object in chunks of up to 1 MiB, for streaming responses."""
        return self._iter(check_key(key))

    def size(self, key: str) -> int:
        return self._size(check_key(key))

    def iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        """`length` bytes from offset `start`, in chunks (HTTP Range requests: audio seeking)."""
        return self._iter_range(check_key(key), start, length)

    def _iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        skipped, left = 0, length
        for block in self._iter(key):
            if skipped + len(block) <= start:
                skipped += len(block)
                continue
            block = block[max(0, start - skipped) :]
            skipped = start
            if left <= 0:
                break
            yield block[:left]
            left -= len(block[:left])

    def as_file(self, key: str) -> AbstractContextManager[Path]:
        """A local file path holding the object, for readers that need to seek (EDF)."""
        return self._as_file(check_key(key))


def missing(key: str) -> NotFound:
    return NotFound("the media file is missing from storage", field="media", code="media_missing")


def open_store(settings: Settings) -> MediaStore:
    """The store named by `DATADAM_STORAGE_URL`: a folder, or `s3://bucket/prefix`."""
    url = settings.storage_url
    if url and url.startswith("s3://"):
        from datadam.media.s3 import S3Store

        bucket, _, prefix = url.removeprefix("s3://").partition("/")
        return S3Store(bucket=bucket, prefix=prefix, endpoint_url=settings.s3_endpoint_url)
    from datadam.media.local import LocalStore

    return LocalStore(Path(url) if url else settings.data_dir / "media")
