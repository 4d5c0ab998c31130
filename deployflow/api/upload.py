"""A multipart upload read as it arrives: the `source` part streamed to a file (never whole in
memory), counted against the size limit as it comes, the small text fields beside it kept.
Wrong content type 415, too large 413, cut short or malformed 400, the disk full 507."""

from __future__ import annotations

import errno
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

from fastapi import HTTPException, Request
from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header
from starlette.requests import ClientDisconnect

from deployflow.backends.files import atomic_file

__all__ = ["FIELDS", "Upload", "receive"]

FIELDS = ("commit",)  # the text fields a deployment may carry beside its source
FIELD_LIMIT = 200  # bytes per text field
SLACK = 64 * 1024  # the multipart framing around the file, allowed over the limit


@dataclass
class Upload:
    size: int = 0
    fields: dict[str, str] = field(default_factory=dict)


class _Parts:
    """The parser's callbacks: which part we are in, and where its bytes go."""

    def __init__(self, sink: BinaryIO, limit: int, upload: Upload) -> None:
        self.sink, self.limit, self.upload = sink, limit, upload
        self.header: list[bytes] = [b"", b""]
        self.headers: dict[bytes, bytes] = {}
        self.part: str | None = None
        self.text = b""
        self.files = 0
        self.ended = False

    def on_part_begin(self) -> None:
        self.headers, self.part, self.text = {}, None, b""

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self.header[0] += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self.header[1] += data[start:end]

    def on_header_end(self) -> None:
        self.headers[self.header[0].lower()] = self.header[1]
        self.header = [b"", b""]

    def on_headers_finished(self) -> None:
        _, options = parse_options_header(self.headers.get(b"content-disposition", b""))
        self.part = options.get(b"name", b"").decode("latin-1")
        if self.part == "source":
            self.files += 1
            if self.files > 1:
                raise HTTPException(400, "one `source` part per upload")

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self.part == "source":
            self.upload.size += end - start
            if self.upload.size > self.limit:
                raise HTTPException(413, _too_large(self.limit))
            self.sink.write(data[start:end])
        elif self.part in FIELDS:
            self.text += data[start:end]
            if len(self.text) > FIELD_LIMIT:
                raise HTTPException(400, f"the field {self.part!r} is longer than {FIELD_LIMIT}")

    def on_part_end(self) -> None:
        if self.part in FIELDS:
            self.upload.fields[self.part] = self.text.decode("utf-8", "replace")

    def on_end(self) -> None:
        self.ended = True


def _too_large(limit: int) -> str:
    return f"the upload is larger than the limit of {limit // (1 << 20)} MB; make the tree smaller"


async def receive(request: Request, dest: Path, limit: int) -> Upload:
    """The request's `source` part into `dest` (0600, whole or not at all)."""
    kind, options = parse_options_header(request.headers.get("content-type", ""))
    if kind != b"multipart/form-data" or b"boundary" not in options:
        raise HTTPException(415, "send the source as multipart/form-data, in a part `source`")
    length = request.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > limit + SLACK:
        raise HTTPException(413, _too_large(limit))
    upload = Upload()
    try:
        with atomic_file(dest, 0o600) as sink:
            parts = _Parts(sink, limit, upload)
            parser = MultipartParser(options[b"boundary"], _callbacks(parts))
            async for chunk in request.stream():
                parser.write(chunk)
            if not parts.ended:
                raise HTTPException(400, "the upload ended early (truncated); send it again")
            if parts.files == 0:
                raise HTTPException(400, "no `source` part: send the tarball as `source`")
    except MultipartParseError as exc:
        raise HTTPException(400, f"not a readable multipart body ({exc})") from None
    except ClientDisconnect:
        raise HTTPException(400, "the client went away before the upload ended") from None
    except OSError as exc:
        if exc.errno == errno.ENOSPC:
            raise HTTPException(507, "the server's disk is full; try again later") from None
        raise
    return upload


def _callbacks(parts: _Parts) -> dict[str, object]:
    names = ("part_begin", "header_field", "header_value", "header_end", "headers_finished")
    names += ("part_data", "part_end", "end")
    return {f"on_{n}": getattr(parts, f"on_{n}") for n in names}
