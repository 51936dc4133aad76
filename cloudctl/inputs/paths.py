"""Output paths, checked before any work starts: a command that will write a file or fill a
directory says what is wrong with the path at once, instead of failing after the work.

    check_output_file(path, field="--output")    # its directory exists and is writable;
                                                 # the path is no directory, device or pipe
    check_output_dir(path, field="--out")        # an existing writable directory, or one
                                                 # that can be made in an existing parent
                                                 # (create_parents=True: in its nearest
                                                 # existing ancestor, for default paths)

Both return the path; the CLI uses them through click types (cloudctl.cli.output
OUTPUT_FILE, OUTPUT_DIR), so the check runs while the command line is parsed.

    write_text_atomic(path, text)                # a temporary file in the same directory, then
                                                 # a rename: a reader never sees half a file
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from cloudctl.errors import InputError


def _stat_error(target: Path, e: OSError, field: str, what: str) -> InputError:
    """An error for a path that cannot even be looked at (a part of it is a file, no permission)."""
    if isinstance(e, NotADirectoryError):
        part = next((p for p in reversed(target.parents) if p.exists() and not p.is_dir()), target.parent)
        return InputError(f"{part} is a file, not a directory", file=str(target), field=field,
                          hint=f"choose {what} elsewhere")
    return InputError(f"cannot use this path: {e.strerror}", file=str(target), field=field,
                      hint="check each directory on the path")


def _writable_dir(directory: Path, path: Path, field: str) -> None:
    if not os.access(directory, os.W_OK | os.X_OK):
        raise InputError(f"cannot write in {directory} (permission denied or read-only)", file=str(path),
                         field=field, hint="choose a directory you can write to")


def check_output_file(path: str | Path, *, field: str = "--output") -> Path:
    """PATH, if a file can be written there (atomically: a temporary file renamed over it)."""
    target = Path(path)
    if str(path) == "" or target.name in ("", ".", ".."):
        raise InputError("an output file needs a name", file=str(path), field=field,
                         hint="e.g. ruleset.nft")
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as e:  # e.g. a component of the path is a file
        raise _stat_error(target, e, field, "a file") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise InputError("is a directory", file=str(path), field=field, hint="give a file name inside it")
    if info is not None and not stat.S_ISREG(info.st_mode):
        raise InputError("is not a regular file (a device, pipe or socket would be replaced)", file=str(path),
                         field=field, hint="leave the option out to write to stdout, or name a file")
    directory = target.parent
    if not directory.exists():
        raise InputError(f"the directory {directory} does not exist", file=str(path), field=field,
                         hint=f"create it first (mkdir -p {directory}) or choose another path")
    if not directory.is_dir():
        raise InputError(f"{directory} is not a directory", file=str(path), field=field)
    _writable_dir(directory, target, field)
    return target


def check_output_dir(path: str | Path, *, field: str = "--out", create_parents: bool = False) -> Path:
    """PATH, if it is (or can be made) a directory cloudctl can write files into."""
    target = Path(path)
    if str(path) == "":
        raise InputError("an output directory needs a name", field=field)
    try:
        info = target.stat()
    except FileNotFoundError:
        info = None
    except OSError as e:
        raise _stat_error(target, e, field, "a directory") from None
    if info is not None:
        if not stat.S_ISDIR(info.st_mode):
            raise InputError("exists and is not a directory", file=str(path), field=field,
                             hint="choose a directory, or a new name")
        _writable_dir(target, target, field)
        return target
    parent = target.parent
    if create_parents:
        while not parent.exists() and parent != parent.parent:
            parent = parent.parent
    if not parent.exists():
        raise InputError(f"the directory {parent} does not exist", file=str(path), field=field,
                         hint=f"create it first (mkdir -p {parent}) or choose another path")
    if not parent.is_dir():
        raise InputError(f"{parent} is not a directory", file=str(path), field=field)
    _writable_dir(parent, target, field)
    return target


def write_text_atomic(path: Path, text: str, *, mode: int | None = None) -> None:
    """Replace PATH with TEXT (UTF-8, newlines as given): a temporary file beside it, then a rename, so
    a reader sees the old file or the new one, never half of one; the temporary file never outlives a
    failure. Permissions follow the umask unless MODE is given (a file another service must read)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(text, encoding="utf-8", newline="")
        if mode is not None:
            os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
