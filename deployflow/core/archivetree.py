"""The tree an archive would make, followed member by member before any is written: no member
may go through a symlink, replace an entry, or leave a link whose target (followed through
every other link) is outside the tree. Pure: names and link targets only."""

from __future__ import annotations

from pathlib import PurePosixPath

__all__ = ["MemberTree"]

MAX_HOPS = 40  # as the kernel's symlink limit: a loop is refused, not followed forever

Parts = tuple[str, ...]


def _parts(name: str) -> Parts:
    return tuple(p for p in PurePosixPath(name).parts if p not in ("", "."))


class MemberTree:
    def __init__(self) -> None:
        self._links: dict[Parts, str] = {}  # symlink path -> its target as written
        self._seen: dict[Parts, bool] = {}  # path -> is a directory

    def admit(self, name: str, kind: str, linkname: str = "") -> str | None:
        """Why the member may not be written (None: it may). `kind`: file, dir, symlink or
        hardlink."""
        parts = _parts(name)
        for end in range(1, len(parts)):
            if parts[:end] in self._links:
                return f"{name!r} goes through the symlink {'/'.join(parts[:end])!r}"
        if parts in self._seen and not (kind == "dir" and self._seen[parts]):
            return f"{name!r} appears twice (a second entry could replace a link)"
        if kind == "hardlink":
            source = _parts(linkname)
            if any(source[:end] in self._links for end in range(1, len(source) + 1)):
                return f"{name!r} is a hard link through a symlink ({linkname!r})"
        self._seen[parts] = kind == "dir"
        if kind == "symlink":
            self._links[parts] = linkname
        return None

    def resolve(self, parts: Parts) -> Parts | None:
        """`parts` with every link followed; None when it leaves the tree (or loops)."""
        out: list[str] = []
        todo = list(parts)
        hops = 0
        while todo:
            part = todo.pop(0)
            if part in ("", "."):
                continue
            if part == "..":
                if not out:
                    return None
                out.pop()
                continue
            out.append(part)
            target = self._links.get(tuple(out))
            if target is None:
                continue
            hops += 1
            if hops > MAX_HOPS or target.startswith("/"):
                return None
            out.pop()
            todo = list(PurePosixPath(target).parts) + todo
        return tuple(out)

    def escaping_link(self) -> str | None:
        """Why the finished tree is unsafe: a link that, followed, leaves it (None: none)."""
        for path, target in self._links.items():
            if self.resolve(path[:-1] + _parts(target) if target else path) is None:
                name = "/".join(path)
                return f"{name!r} links outside the target ({target!r}, following the links)"
        return None
