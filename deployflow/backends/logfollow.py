"""Following a log file as it grows, across rotation: a rename + new file (the old one is read
to its end, then the new one from its start) and copytruncate (the file shrinks: read it again
from the start). A file that does not exist yet is waited for. Each poll returns the entries
completed since the last; an entry is complete when the next begins or when a poll finds
nothing new (so a lone line shows within two polls)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import BinaryIO

from deployflow.backends.logread import MAX_LINE
from deployflow.core.logparse import Entry, Grouper

__all__ = ["FileFollower"]


class FileFollower:
    def __init__(self, path: Path, source: str, from_end: bool = True) -> None:
        self.path = path
        self.grouper = Grouper(source)
        self.handle: BinaryIO | None = None
        self.partial = b""
        self.skipping = False  # the rest of an over-long line, already shown cut
        self.mark = b""  # the last bytes read: gone from their place means the file was cut
        self._open(at_end=from_end)

    def _open(self, at_end: bool) -> None:
        try:
            self.handle = open(self.path, "rb")  # noqa: SIM115 (kept open while following)
        except FileNotFoundError:
            self.handle = None
            return
        self.mark = b""
        if at_end:
            end = self.handle.seek(0, os.SEEK_END)
            self.mark = os.pread(self.handle.fileno(), min(64, end), max(end - 64, 0))

    def _rotated(self) -> bool:
        """The path now names another file (renamed away and recreated)."""
        assert self.handle is not None
        try:
            now = os.stat(self.path)
        except FileNotFoundError:
            return False  # renamed, the new one not there yet: keep reading the old
        mine = os.fstat(self.handle.fileno())
        return (now.st_ino, now.st_dev) != (mine.st_ino, mine.st_dev)

    def _truncated(self) -> bool:
        """The file was cut (copytruncate): shorter than where we are, or, when it grew back
        past that point between two polls, no longer holding the bytes we read last."""
        assert self.handle is not None
        pos = self.handle.tell()
        if os.fstat(self.handle.fileno()).st_size < pos:
            return True
        if not self.mark:
            return False
        return os.pread(self.handle.fileno(), len(self.mark), pos - len(self.mark)) != self.mark

    def _read(self) -> bytes:
        assert self.handle is not None
        if self._truncated():
            self.handle.seek(0)
            self.partial = self.mark = b""
        data = self.handle.read()
        if data:
            self.mark = (self.mark + data)[-64:]
        return data

    def _new_lines(self) -> tuple[list[str], bool]:
        """The lines completed since the last read (an over-long one cut to its head), and
        whether anything at all was read."""
        if self.handle is None:
            self._open(at_end=False)  # created since: read it all
            if self.handle is None:
                return [], False
        data = self._read()
        if self._rotated():
            data += self._read()  # the old file's last lines, then the new file from its start
            self.handle.close()
            self._open(at_end=False)
            if self.handle is not None:
                data += self._read()
        if not data:
            return [], False
        if self.skipping:
            nl = data.find(b"\n")
            self.skipping = nl < 0
            data = b"" if nl < 0 else data[nl + 1 :]
        *complete, self.partial = (self.partial + data).split(b"\n")
        lines = [raw[:MAX_LINE].decode("utf-8", errors="replace") for raw in complete]
        if len(self.partial) > MAX_LINE:  # a huge line still being written: show its head
            lines.append(self.partial[:MAX_LINE].decode("utf-8", errors="replace"))
            self.partial, self.skipping = b"", True
        return lines, True

    def poll(self) -> list[Entry]:
        lines, read = self._new_lines()
        if not read:
            last = self.grouper.flush()
            return [last] if last else []
        return [entry for line in lines if (entry := self.grouper.feed(line))]

    def lines(self, final: bool = False) -> list[str]:
        """The raw lines completed since the last read, ungrouped; `final` (the writer is
        gone): the unfinished last line too."""
        lines, _read = self._new_lines()
        if final and self.partial:
            lines.append(self.partial[:MAX_LINE].decode("utf-8", errors="replace"))
            self.partial = b""
        return lines

    def close(self) -> None:
        if self.handle is not None:
            self.handle.close()
