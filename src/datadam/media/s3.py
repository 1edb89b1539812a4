"""Media in an S3-compatible bucket (AWS, MinIO, Ceph...) through boto3.

The endpoint comes from `DATADAM_S3_ENDPOINT_URL`; credentials from boto3's usual chain
(environment, config files), never from datadam settings.
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from datadam.media.store import CHUNK, MediaStore, missing


class S3Store(MediaStore):
    def __init__(
        self, *, bucket: str, prefix: str = "", endpoint_url: str | None = None, client: Any = None
    ) -> None:
        if client is None:
            import boto3

            client = boto3.client("s3", endpoint_url=endpoint_url)
        self.client = client
        self.bucket = bucket
        self.prefix = prefix.strip("/") + "/" if prefix.strip("/") else ""

    def _name(self, key: str) -> str:
        return f"{self.prefix}{key[:2]}/{key}"

    def _is_missing(self, exc: Exception) -> bool:
        code = getattr(exc, "response", {}).get("Error", {}).get("Code", "")
        return code in ("404", "NoSuchKey", "NotFound")

    def _head(self, key: str) -> dict[str, Any] | None:
        try:
            return self.client.head_object(Bucket=self.bucket, Key=self._name(key))  # type: ignore[no-any-return]
        except Exception as exc:
            if self._is_missing(exc):
                return None
            raise

    def _put(self, key: str, data: bytes) -> None:
        self.client.put_object(Bucket=self.bucket, Key=self._name(key), Body=data)

    def _exists(self, key: str) -> bool:
        return self._head(key) is not None

    def _get(self, key: str) -> Any:
        try:
            return self.client.get_object(Bucket=self.bucket, Key=self._name(key))["Body"]
        except Exception as exc:
            if self._is_missing(exc):
                raise missing(key) from None
            raise

    def _read(self, key: str) -> bytes:
        return self._get(key).read()  # type: ignore[no-any-return]

    def _iter(self, key: str) -> Iterator[bytes]:
        body = self._get(key)

        def chunks() -> Iterator[bytes]:
            try:
                while block := body.read(CHUNK):
                    yield block
            finally:
                body.close()

        return chunks()

    def _iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        if length <= 0:
            return iter(())
        try:
            body = self.client.get_object(
                Bucket=self.bucket, Key=self._name(key), Range=f"bytes={start}-{start + length - 1}"
            )["Body"]
        except Exception as exc:
            if self._is_missing(exc):
                raise missing(key) from None
            raise

        def chunks() -> Iterator[bytes]:
            try:
                while block := body.read(CHUNK):
                    yield block
            finally:
                body.close()

        return chunks()

    def _size(self, key: str) -> int:
        head = self._head(key)
        if head is None:
            raise missing(key)
        return int(head["ContentLength"])

    @contextmanager
    def _as_file(self, key: str) -> Iterator[Path]:
        with tempfile.TemporaryDirectory(prefix="datadam-media-") as tmp:
            path = Path(tmp) / key
            with path.open("wb") as handle:
                for block in self._iter(key):
                    handle.write(block)
            yield path
