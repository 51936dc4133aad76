"""The append-only checkpoint file: one JSON line per checkpoint, outside the store.

Written only by appending (O_APPEND, one write per batch of lines, then fsync, and an fsync of the
directory when the file is new), under an exclusive flock so two signers on one host never
interleave. It may live on another host (an NFS share that the database's administrators cannot
write, with `chattr +a` on the server; docs/audit.md). A crash mid-write can leave a torn last
line: readers skip a line that is not a checkpoint and say so, and the next append starts on a
fresh line.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cloudctl.audit.checkpoints import Checkpoint, parse_line
from cloudctl.errors import InputError, OperationFailed

TAIL_BYTES = 64 * 1024


@dataclass
class FileCheckpoints:
    checkpoints: list[Checkpoint] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # "FILE:LINE: why" for lines that are not checkpoints


def _parse(path: Path, lines: list[bytes], first_line: int, complete_last: bool) -> FileCheckpoints:
    out = FileCheckpoints()
    for i, raw in enumerate(lines):
        if not raw.strip():
            continue
        where = f"{path}:{first_line + i}" if first_line else f"{path}: a line near the end"
        if i == len(lines) - 1 and not complete_last:
            out.skipped.append(f"{where}: incomplete last line (a write cut short), ignored")
            continue
        try:
            out.checkpoints.append(parse_line(raw.decode("utf-8")))
        except (UnicodeDecodeError, ValueError) as e:
            out.skipped.append(f"{where}: not a checkpoint ({e}), ignored")
    return out


def read_all(path: Path) -> FileCheckpoints:
    """Every checkpoint in the file, in file order (an absent file has none)."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return FileCheckpoints()
    except OSError as e:
        raise InputError(f"cannot read the checkpoint file: {e.strerror}", file=str(path)) from e
    lines = data.split(b"\n")
    complete = data.endswith(b"\n") or not data
    if complete:
        lines = lines[:-1]
    return _parse(path, lines, 1, complete)


def read_tail(path: Path, min_count: int = 1) -> FileCheckpoints:
    """The checkpoints in the last 64 KiB (about 150), or the whole file when that holds fewer
    than min_count; what a signer needs without reading years of history."""
    try:
        with path.open("rb") as f:
            size = f.seek(0, os.SEEK_END)
            start = max(0, size - TAIL_BYTES)
            f.seek(start)
            data = f.read()
    except FileNotFoundError:
        return FileCheckpoints()
    except OSError as e:
        raise OperationFailed(f"{path}: cannot read the checkpoint file: {e.strerror}") from e
    if start == 0:
        return read_all(path)
    lines = data.split(b"\n")[1:]  # the first piece may be the end of a longer line
    complete = data.endswith(b"\n")
    if complete:
        lines = lines[:-1]
    tail = _parse(path, lines, 0, complete)
    if len(tail.checkpoints) < min_count:
        return read_all(path)
    return tail


@contextmanager
def locked_for_append(path: Path) -> Iterator[int]:
    """The file opened for appending (created 0644 when absent) under an exclusive flock."""
    created = not path.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise OperationFailed(f"{path}: cannot open the checkpoint file for appending: {e.strerror}",
                              hint="is the share mounted and writable by this user?") from e
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        if created:
            _fsync_dir(path.parent)
        yield fd
    finally:
        os.close(fd)


def append(fd: int, path: Path, checkpoints: list[Checkpoint]) -> None:
    """Append lines with one write, then fsync; start on a fresh line after a torn one."""
    if not checkpoints:
        return
    payload = "".join(cp.to_line() + "\n" for cp in checkpoints).encode("utf-8")
    size = os.fstat(fd).st_size
    if size and _last_byte(path, size) != b"\n":
        payload = b"\n" + payload
    view = memoryview(payload)
    while view:
        written = os.write(fd, view)
        view = view[written:]
    os.fsync(fd)


def _last_byte(path: Path, size: int) -> bytes:
    with path.open("rb") as f:
        f.seek(size - 1)
        return f.read(1)


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
