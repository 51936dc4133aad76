"""The one loader for YAML and JSON inputs: bounded, strict, and every error names where.

Use it for every document cloudctl reads (gateway and approval policies, agent config, plan
weights, probe files, JSON payloads given on the command line)::

    from cloudctl.inputs.documents import load_document, parse_document

    doc = load_document(path, what="approval policy")      # .json -> JSON, anything else YAML
    data = doc.mapping()                                  # InputError unless a mapping
    try:
        policy = Policy.model_validate(data)              # pydantic, or check by hand ...
    except ValidationError as e:
        raise doc.validation_error(e, hint="see docs/approvals.md") from e
    raise doc.error(("groups", 0, "rule"), "rule must be all, any or quorum:K", hint="...")

    doc = parse_document(text, file="--payload", format="json")   # a string from a flag

`doc.data` is plain Python: dict (str keys), list, str, int, float, bool, None, and (YAML)
datetime.date/datetime. `doc.error(path, message)` returns an InputError naming
file:line:column and the field (`publications[3].ports`); `doc.locate(path)` gives the
(line, column) of the deepest node on PATH that exists (a missing key points at its parent).

What it refuses (InputError, exit 2), before any expansion or deep recursion happens:
- aliases (`*a`) that would expand the document by more than max_alias_nodes (10,000)
  nodes or nest it deeper than max_depth, aliases to an anchor not yet closed (cycles),
  and merge keys (`<<`): an alias bomb stops at its first few aliases, and an alias
  shares its anchor's value (nothing is copied);
- nesting deeper than max_depth (64) and files larger than max_bytes (16 MiB);
- values longer than max_scalar (64 Ki characters), integers longer than 40 digits;
- bytes that are not UTF-8 (a BOM is allowed), more than one YAML document;
- duplicate keys, keys that are not plain names (lists, mappings as keys);
- explicit tags other than the standard scalar, sequence and mapping ones (no !!python/...);
- NaN and infinities (`.nan`, `.inf`, JSON `NaN`, `1e400`).

YAML is parsed by libyaml (PyYAML's C parser) event by event: one pass, no recursion. JSON
is parsed by the standard library's C parser (strict: no comments, no trailing commas, no
NaN). The marks of every key and item are read in a second pass, only when an error needs
a location.
"""

from __future__ import annotations

import gc
import stat
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from cloudctl.errors import InputError

MAX_BYTES = 16 * 1024 * 1024
MAX_DEPTH = 64
MAX_SCALAR = 64 * 1024
MAX_DIGITS = 40
MAX_ALIAS_NODES = 10_000
NodePath = tuple[str | int, ...]
_ALIAS_HINT = (f"write the values out: aliases may add at most {MAX_ALIAS_NODES:,} nodes, and merge keys "
               "(<<) are not read (a few lines of aliases can expand to gigabytes)")
_STR = "tag:yaml.org,2002:str"
_SCALAR_TAGS = frozenset(f"tag:yaml.org,2002:{t}" for t in ("str", "int", "float", "bool", "null", "timestamp"))


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic GC while many small, acyclic objects are made (a document's nodes, a
    file's rows): each collection would walk all of them again, for nothing (3x on big inputs)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def format_path(path: Sequence[str | int]) -> str:
    """('publications', 3, 'ports') -> 'publications[3].ports'."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


class Document:
    """A loaded document: its data, and where each of its nodes came from."""

    def __init__(self, data: Any, file: str | None = None, *, marks: Any = None,
                 find_marks: Callable[[], Any] | None = None) -> None:
        self.data = data
        self.file = file
        self._marks = marks  # (mark, children) of the root; see yamldoc._read
        self._find_marks = find_marks

    def locate(self, path: Sequence[str | int]) -> tuple[int | None, int | None]:
        """(line, column), 1-based, of the deepest node on PATH that exists; (None, None) if unknown."""
        if self._marks is None and self._find_marks is not None:
            self._marks, self._find_marks = self._find_marks(), None
        if self._marks is None:
            return None, None
        mark, children = self._marks
        for part in path:
            try:
                entry = children[part]
            except (KeyError, IndexError, TypeError):
                break
            mark, children = entry if type(entry) is tuple else (entry, None)
        return mark.line + 1, mark.column + 1

    def error(self, path: Sequence[str | int], message: str, *, hint: str | None = None) -> InputError:
        line, column = self.locate(path)
        return InputError(message, file=self.file, line=line, column=column, field=format_path(path) or None,
                          hint=hint)

    def mapping(self, what: str = "document", *, hint: str | None = None) -> dict[str, Any]:
        """The data, which must be a mapping (an empty file is an error too)."""
        if self.data is None:
            raise InputError(f"the {what} is empty", file=self.file, hint=hint)
        if not isinstance(self.data, dict):
            raise self.error((), f"the {what} must be a mapping (key: value lines), not a "
                                 f"{_kind(self.data)}", hint=hint)
        return self.data

    def validation_error(self, exc: Any, *, hint: str | None = None) -> InputError:
        """The first problem of a pydantic ValidationError, located in this document."""
        errors = exc.errors()
        first = errors[0]
        path = data_path(self.data, first.get("loc", ()))
        message = first.get("msg", "invalid value")
        if first.get("type") == "extra_forbidden" and path:
            message = "not a known field (a typo?)"
        elif first.get("type") == "missing" and path:
            message = "required, but missing"
        if len(errors) > 1:
            message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
        return self.error(path, message, hint=hint)


def _kind(value: Any) -> str:
    return {list: "list", str: "text", int: "number", float: "number", bool: "boolean"}.get(type(value),
                                                                                      type(value).__name__)


def data_path(data: Any, loc: Sequence[Any]) -> NodePath:
    """A validator's error location as a path into DATA: names of union members and the like,
    which are no keys of the data, are left out; a missing last key is kept (it is the field)."""
    path: list[str | int] = []
    node = data
    for i, part in enumerate(loc):
        if isinstance(node, dict) and isinstance(part, str):
            if part in node:
                path.append(part)
                node = node[part]
            elif i == len(loc) - 1:
                path.append(part)
        elif isinstance(node, list) and type(part) is int and 0 <= part < len(node):
            path.append(part)
            node = node[part]
    return tuple(path)


def read_input_bytes(path: str | Path, *, what: str = "input", max_bytes: int = MAX_BYTES,
                     hint: str | None = None) -> bytes:
    """A file's bytes, refusing what is missing, a directory, unreadable or larger than max_bytes."""
    display = str(path)
    try:
        info = Path(path).stat()
        if stat.S_ISDIR(info.st_mode):
            raise InputError(f"the {what} is a directory, not a file", file=display, hint=hint)
        if info.st_size > max_bytes:
            raise InputError(f"the {what} is {info.st_size:,} bytes; at most {max_bytes:,} are read",
                             file=display, hint="split the file, or check that it is the right one")
        with open(path, "rb") as handle:
            if stat.S_ISREG(info.st_mode):  # read what is there (a bound of 16 MiB would be allocated whole)
                data = handle.read(info.st_size + 1)
            else:  # a pipe or a device: in pieces, up to the bound
                pieces, size = [], 0
                while size <= max_bytes and (piece := handle.read(65536)):
                    pieces.append(piece)
                    size += len(piece)
                data = b"".join(pieces)
    except FileNotFoundError:
        raise InputError(f"no such {what} file", file=display, hint=hint or "check the path") from None
    except PermissionError:
        raise InputError(f"the {what} is not readable (permission denied)", file=display,
                         hint="check the file's owner and mode") from None
    except OSError as e:
        raise InputError(f"cannot read the {what}: {e.strerror}", file=display) from None
    if len(data) > max_bytes:
        raise InputError(f"the {what} is larger than the {max_bytes:,} bytes allowed", file=display)
    return data


def decode_utf8(data: bytes, file: str | None) -> str:
    """Strict UTF-8 (a leading BOM is dropped); a bad byte is an error at its line and column."""
    start = 3 if data.startswith(b"\xef\xbb\xbf") else 0
    try:
        return str(memoryview(data)[start:], "utf-8")  # no copy of the bytes
    except UnicodeDecodeError as e:
        data = data[start:]
        line_start = data.rfind(b"\n", 0, e.start) + 1
        column = len(data[line_start:e.start].decode("utf-8", "replace")) + 1
        raise InputError(f"not UTF-8 text: byte 0x{data[e.start]:02x} cannot be decoded", file=file,
                         line=data.count(b"\n", 0, e.start) + 1, column=column,
                         hint="save the file as UTF-8") from None


def load_document(path: str | Path, *, what: str = "input", format: str | None = None,
                  max_bytes: int = MAX_BYTES, max_depth: int = MAX_DEPTH, max_scalar: int = MAX_SCALAR,
                  hint: str | None = None) -> Document:
    """Read and parse a YAML or JSON file (format: 'yaml', 'json', or None: by the suffix)."""
    display = str(path)
    data = read_input_bytes(path, what=what, max_bytes=max_bytes, hint=hint)
    text = decode_utf8(data, display)
    fmt = format or ("json" if str(path).lower().endswith(".json") else "yaml")
    return parse_document(text, file=display, format=fmt, max_depth=max_depth, max_scalar=max_scalar)


def parse_document(text: str, *, file: str | None = None, format: str = "yaml", max_depth: int = MAX_DEPTH,
                   max_scalar: int = MAX_SCALAR) -> Document:
    """Parse YAML or JSON text (already decoded); see the module docstring for what is refused."""
    if len(text) > MAX_BYTES:
        raise InputError(f"the input is {len(text):,} characters; at most {MAX_BYTES:,} are read", file=file)
    if format == "json":
        from cloudctl.inputs.jsondoc import PathProblem, parse_json

        doc = Document(None, file, find_marks=lambda: _marks_or_none(text, file))
        try:
            with paused_gc():
                doc.data = parse_json(text, file, max_depth=max_depth, max_scalar=max_scalar)
        except PathProblem as p:
            error = doc.error(p.path, p.message, hint=p.hint)
            if error.line is None and p.where:
                error.line, error.column = p.where
            raise error from None
        return doc
    if format != "yaml":
        raise ValueError(f"unknown document format {format!r}")
    from cloudctl.inputs.yamldoc import parse_yaml

    with paused_gc():  # marks are found again when an error needs them (a second pass, errors only)
        data, _ = parse_yaml(text, file, max_depth=max_depth, max_scalar=max_scalar, marks=False)
    return Document(data, file, find_marks=lambda: _yaml_marks(text, file, max_depth, max_scalar))


def _yaml_marks(text: str, file: str | None, max_depth: int, max_scalar: int) -> Any:
    from cloudctl.inputs.yamldoc import parse_yaml

    with paused_gc():
        return parse_yaml(text, file, max_depth=max_depth, max_scalar=max_scalar, resolve=False)[1]


def _marks_or_none(text: str, file: str | None) -> Any:
    """Marks of a JSON text, read with the YAML parser (JSON is YAML); None if it cannot."""
    from cloudctl.inputs.yamldoc import parse_yaml

    try:
        return parse_yaml(text, file, max_depth=MAX_DEPTH * 4, max_scalar=MAX_BYTES, resolve=False)[1]
    except InputError:
        return None


