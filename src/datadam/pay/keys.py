"""The platform's Ed25519 signing key: ledger checkpoints and work-history certificates.

The private key lives in `DATA_DIR/platform_ed25519.pem` (mode 0600), generated on first use
and never stored in the database it vouches for: someone who can rewrite the database still
cannot forge a checkpoint. Every signature is purpose-bound: the signed bytes start with the
purpose, so a checkpoint signature can never pass as a certificate or the other way round.
"""

from __future__ import annotations

import base64
import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from datadam.errors import DatadamError

KEY_FILE = "platform_ed25519.pem"
ALGORITHM = "Ed25519"


class PlatformKeyError(DatadamError):
    """The key file is unreadable or not an Ed25519 key."""

    code = "platform_key"


def key_id_of(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 over the raw public key: short, stable, unambiguous."""
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    """A public key from PEM (SubjectPublicKeyInfo) or from a private key PEM."""
    try:
        if b"PRIVATE KEY" in pem:
            private = serialization.load_pem_private_key(pem, password=None)
            if not isinstance(private, Ed25519PrivateKey):
                raise PlatformKeyError("not an Ed25519 key")
            return private.public_key()
        public = serialization.load_pem_public_key(pem)
    except ValueError as exc:
        raise PlatformKeyError(f"not a PEM key: {exc}") from None
    if not isinstance(public, Ed25519PublicKey):
        raise PlatformKeyError("not an Ed25519 key")
    return public


def _message(purpose: str, payload: bytes) -> bytes:
    return purpose.encode() + b"\n" + payload


@dataclass(frozen=True)
class PlatformKey:
    """The signing key and what a verifier needs to know about it."""

    private: Ed25519PrivateKey

    @property
    def public(self) -> Ed25519PublicKey:
        return self.private.public_key()

    @property
    def key_id(self) -> str:
        return key_id_of(self.public)

    def sign(self, purpose: str, payload: bytes) -> str:
        """URL-safe base64 of the signature over `purpose` + newline + `payload`."""
        signature = self.private.sign(_message(purpose, payload))
        return base64.urlsafe_b64encode(signature).decode().rstrip("=")


def verify_signature(
    public_key: Ed25519PublicKey, purpose: str, payload: bytes, signature: str
) -> bool:
    try:
        raw = base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4))
        public_key.verify(raw, _message(purpose, payload))
    except (InvalidSignature, ValueError):
        return False
    return True


def load_or_create_platform_key(data_dir: Path) -> PlatformKey:
    """The key in `data_dir`, created with mode 0600 on first use.

    A new key is written to a private temporary file and then hard-linked into place, which
    fails if the name exists: of two racing processes one wins and the other reads the
    winner's complete key, never a half-written file.
    """
    path = data_dir / KEY_FILE
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        private = Ed25519PrivateKey.generate()
        pem = private.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd, temp = tempfile.mkstemp(dir=data_dir, prefix=".platform_key_")
        try:
            os.fchmod(fd, 0o600)
            with os.fdopen(fd, "wb") as handle:
                handle.write(pem)
                handle.flush()
                os.fsync(handle.fileno())
            os.link(temp, path)
        except FileExistsError:
            pass
        finally:
            os.unlink(temp)
    return PlatformKey(_read_private(path))


def load_platform_key(data_dir: Path) -> PlatformKey | None:
    """The existing key, or None when none was generated yet (verification never creates one)."""
    path = data_dir / KEY_FILE
    return PlatformKey(_read_private(path)) if path.exists() else None


def _read_private(path: Path) -> Ed25519PrivateKey:
    try:
        private = serialization.load_pem_private_key(path.read_bytes(), password=None)
    except ValueError as exc:
        raise PlatformKeyError(f"{path}: not a PEM private key ({exc})") from None
    if not isinstance(private, Ed25519PrivateKey):
        raise PlatformKeyError(f"{path}: not an Ed25519 key")
    return private


_loaded: dict[Path, PlatformKey] = {}


def platform_key_for(data_dir: Path) -> PlatformKey:
    """The data dir's key, read (or created) once per process."""
    path = data_dir.resolve()
    key = _loaded.get(path)
    if key is None:
        key = _loaded[path] = load_or_create_platform_key(path)
    return key
