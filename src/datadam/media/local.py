"""Media in one fixed folder. Keys fan out into two levels of sub-folders (`ab/cd/<key>`).

Defence in depth against path traversal: keys are checked for the content-key shape first,
then the joined path is resolved (following any symlink) and must stay inside the root.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from datadam.errors import InputError
from datadam.media.store import CHUNK, MediaStore, missing


class LocalStore(MediaStore):
    def __init__(self, root: Path) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root = root.resolve(strict=True)

    def _path(self, key: str) -> Path:
        path = (self.root / key[:2] / key[2:4] / key).resolve()
        if not path.is_relative_to(self.root):
            raise InputError("media path escapes the storage folder", code="invalid_path")
        return path

    def _put(self, key: str, data: bytes) -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".upload-")
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    def _exists(self, key: str) -> bool:
        return self._path(key).is_file()

    def _read(self, key: str) -> bytes:
        try:
            return self._path(key).read_bytes()
        except FileNotFoundError:
            raise missing(key) from None

    def _iter(self, key: str) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise missing(key)

        def chunks() -> Iterator[bytes]:
            with path.open("rb") as handle:
                while block := handle.read(CHUNK):
                    yield block

        return chunks()

    def _iter_range(self, key: str, start: int, length: int) -> Iterator[bytes]:
        path = self._path(key)
        if not path.is_file():
            raise missing(key)

        def chunks() -> Iterator[bytes]:
            left = length
            with path.open("rb") as handle:
                handle.seek(start)
                while left > 0 and (block := handle.read(min(CHUNK, left))):
                    left -= len(block)
                    yield block

        return chunks()

    def _size(self, key: str) -> int:
        try:
            return self._path(key).stat().st_size
        except FileNotFoundError:
            raise missing(key) from None

    @contextmanager
    def _as_file(self, key: str) -> Iterator[Path]:
        path = self._path(key)
        if not path.is_file():
            raise missing(key)
        yield path
