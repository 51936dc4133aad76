"""Small durable files for the agent: append a line, replace a file atomically, read one back.

Every write is fsynced, and so is the directory when a name appears or changes, so what a call
returned from survives a power loss. A crash may leave a torn last line (readers skip it) or a
complete `NAME.tmp` beside an older `NAME` (`read_atomic` finishes that rename).

`FAULT` is the seam the crash tests use to kill the process at a named point (`append`: about
to write a line; `write`: about to write a temporary file; `rename`: the temporary file is
durable, about to rename; `renamed`: renamed, the directory not yet synced). It does nothing
otherwise.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path


def _no_fault(point: str, path: Path, fd: int | None, data: bytes) -> None:
    return None


FAULT: Callable[[str, Path, int | None, bytes], None] = _no_fault


def fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def append_line(path: Path, line: bytes) -> None:
    """Append one newline-terminated line, fsynced. A torn line left by an earlier crash is
    closed off first, so it stays one bad line instead of spoiling this one."""
    assert line.endswith(b"\n")
    created = not path.exists()
    fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size and os.pread(fd, 1, size - 1) != b"\n":
            _write_all(fd, b"\n")
        FAULT("append", path, fd, line)
        _write_all(fd, line)
        os.fsync(fd)
    finally:
        os.close(fd)
    if created:
        fsync_dir(path.parent)


def temporary(path: Path) -> Path:
    return path.with_name(path.name + ".tmp")


def write_atomic(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` with `data`: a temporary file, fsync, rename, fsync of the directory."""
    tmp = temporary(path)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        FAULT("write", tmp, fd, data)
        _write_all(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    FAULT("rename", path, None, data)
    os.replace(tmp, path)
    FAULT("renamed", path, None, data)
    fsync_dir(path.parent)


def read_atomic(path: Path, complete: Callable[[bytes], bool]) -> bytes | None:
    """The content of a file written by write_atomic, or None. When a crash came between the
    temporary file's fsync and the rename, the temporary file is `complete` (the newer content)
    and the rename is finished here; an incomplete one is removed."""
    tmp = temporary(path)
    if tmp.exists():
        data = tmp.read_bytes()
        if complete(data):
            os.replace(tmp, path)
            fsync_dir(path.parent)
            return data
        tmp.unlink(missing_ok=True)
    try:
        return path.read_bytes()
    except FileNotFoundError:
        return None


def remove(path: Path) -> None:
    """Unlink and sync the directory (the name is gone after a crash too)."""
    try:
        path.unlink()
    except FileNotFoundError:
        return
    fsync_dir(path.parent)
