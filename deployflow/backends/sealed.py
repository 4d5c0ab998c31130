"""Backup files encrypted at rest: AES-256-GCM over 1 MiB chunks, each with its own nonce and
its index and an end marker as associated data, so a chunk cannot be changed, dropped, moved
or the file cut short without decryption failing. Reading is streamed (a dump of gigabytes
never sits in memory)."""

from __future__ import annotations

import base64
import binascii
import io
import os
import struct
from pathlib import Path
from typing import IO

from deployflow.errors import BackupError

__all__ = ["MAGIC", "SealedWriter", "is_sealed", "opened", "parse_key", "seal"]

MAGIC = b"DFSEAL1\n"
CHUNK = 1 << 20
_HEAD = struct.Struct(">I")  # ciphertext length of the next chunk


def parse_key(text: str, where: str) -> bytes:
    """A 32-byte key, base64-encoded (`openssl rand -base64 32` makes one)."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != 32:
        raise BackupError(f"{where}: the backup key must be 32 bytes, base64-encoded")
    return key


def _aad(index: int, last: bool) -> bytes:
    return struct.pack(">Q?", index, last)


def seal(path: Path, key: bytes) -> None:
    """Encrypt `path` in place (temp file, fsync, rename; mode 0600)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    aead = AESGCM(key)
    tmp = path.with_name(f".{path.name}.seal")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        with open(path, "rb") as src, os.fdopen(fd, "wb") as out:
            out.write(MAGIC)
            block, index = src.read(CHUNK), 0
            while True:
                following = src.read(CHUNK) if block else b""
                last = not following
                nonce = os.urandom(12)
                sealed = aead.encrypt(nonce, block, _aad(index, last))
                out.write(_HEAD.pack(len(sealed)) + nonce + sealed)
                if last:
                    break
                block, index = following, index + 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class SealedWriter:
    """Bytes written to `path` (0600) as they come, sealed when a key is given, and the SHA-256
    of what lands on disk computed on the way (no second pass for checksums)."""

    def __init__(self, path: Path, key: bytes | None) -> None:
        import hashlib

        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self._out = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()
        self._key, self._pending, self._index = key, bytearray(), 0
        if key is not None:
            from cryptography.hazmat.primitives.ciphers.aead import AESGCM

            self._aead = AESGCM(key)
            self._put(MAGIC)

    def _put(self, data: bytes) -> None:
        self._out.write(data)
        self._sha.update(data)

    def _frame(self, block: bytes, last: bool) -> None:
        nonce = os.urandom(12)
        sealed = self._aead.encrypt(nonce, block, _aad(self._index, last))
        self._put(_HEAD.pack(len(sealed)) + nonce + sealed)
        self._index += 1

    def write(self, data: bytes) -> int:
        if self._key is None:
            self._put(data)
            return len(data)
        self._pending += data
        while len(self._pending) > CHUNK:  # keep one chunk back: the last one is marked
            self._frame(bytes(self._pending[:CHUNK]), last=False)
            del self._pending[:CHUNK]
        return len(data)

    def close(self) -> str:
        """Flush, fsync and close; returns the stored file's SHA-256."""
        if self._key is not None:
            self._frame(bytes(self._pending), last=True)
        self._out.flush()
        os.fsync(self._out.fileno())
        self._out.close()
        return self._sha.hexdigest()


def is_sealed(path: Path) -> bool:
    with open(path, "rb") as handle:
        return handle.read(len(MAGIC)) == MAGIC


class _Opened(io.RawIOBase):
    """A sealed file read as its plaintext, one verified chunk at a time."""

    def __init__(self, path: Path, key: bytes) -> None:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        self._aead, self._name = AESGCM(key), path.name
        self._raw = open(path, "rb")  # noqa: SIM115 - closed in close()
        self._raw.read(len(MAGIC))
        self._buf, self._index, self._done = b"", 0, False

    def readable(self) -> bool:
        return True

    def _next(self) -> None:
        from cryptography.exceptions import InvalidTag

        head = self._raw.read(_HEAD.size)
        if len(head) < _HEAD.size:
            raise BackupError(f"{self._name}: cut short (the encrypted file ends too soon)")
        nonce = self._raw.read(12)
        sealed = self._raw.read(_HEAD.unpack(head)[0])
        for last in (False, True):
            try:
                self._buf += self._aead.decrypt(nonce, sealed, _aad(self._index, last))
            except InvalidTag:
                continue
            self._index += 1
            self._done = last
            return
        raise BackupError(f"{self._name}: does not decrypt (wrong key, or the file was changed)")

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        while not self._buf and not self._done:
            self._next()
        n = min(len(buffer), len(self._buf))
        buffer[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        self._raw.close()
        super().close()


def opened(path: Path, key: bytes | None) -> IO[bytes]:
    """`path` for reading as plaintext: decrypted when sealed (a key is then required)."""
    if not is_sealed(path):
        return open(path, "rb")
    if key is None:
        raise BackupError(
            f"{path.name} is encrypted; give the key (the variable backup.key names) to read it"
        )
    return io.BufferedReader(_Opened(path, key), buffer_size=CHUNK)
