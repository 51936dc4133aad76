"""JSON text -> plain data, strictly (see documents.py): the standard library's C parser, no
NaN or infinities, no duplicate keys, no lone surrogates, bounded depth and value length."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from cloudctl.errors import InputError
from cloudctl.inputs.documents import MAX_DIGITS

_HINT = "check the JSON near here: keys and strings in double quotes, no trailing commas, no comments"


class _Refused(ValueError):
    pass


class PathProblem(ValueError):
    """A problem at a path of the parsed data; the caller locates it (documents.parse_document)."""

    def __init__(self, path: tuple[Any, ...], message: str, hint: str | None = None,
                 where: tuple[int, int] | None = None) -> None:
        super().__init__(message)
        self.path, self.message, self.hint, self.where = path, message, hint, where


def _constant(name: str) -> Any:
    raise _Refused(f"{name} is not a number cloudctl accepts (write a finite number)")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        dup = next(k for k, _ in pairs if k in seen or seen.add(k))  # type: ignore[func-returns-value]
        raise _Refused(f"duplicate key {dup!r}")
    return result


def _int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_DIGITS:
        raise _Refused(f"a number of {len(text)} digits (at most {MAX_DIGITS})")
    return int(text)


def _position(text: str, pos: int) -> tuple[int, int]:
    line = text.count("\n", 0, pos) + 1
    return line, pos - (text.rfind("\n", 0, pos) + 1) + 1


_STRINGS = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_CONSTANTS = re.compile(r"-?Infinity|NaN")
_SURROGATE = re.compile("[\ud800-\udfff]")


def _locate_refusal(text: str, message: str, file: str | None) -> tuple[int | None, int | None]:
    """Where a decoder hook refused (the decoder does not say): the first NaN/Infinity outside
    strings, or the duplicate key the YAML parser finds (JSON is YAML)."""
    if "duplicate key" in message:
        from cloudctl.inputs.yamldoc import parse_yaml

        try:
            parse_yaml(text, file, max_depth=10_000, max_scalar=len(text), resolve=False)
        except InputError as e:
            return e.line, e.column
        return None, None
    blank = _STRINGS.sub(lambda m: " " * len(m.group()), text)
    found = _CONSTANTS.search(blank) or re.search(rf"\d{{{MAX_DIGITS + 1},}}", blank)
    return _position(text, found.start()) if found else (None, None)


def _too_deep(text: str, max_depth: int) -> tuple[int | None, int | None]:
    """Where the nesting first goes deeper than max_depth (error path only)."""
    depth = 0
    for m in re.finditer(r"[\[\]{}]", _STRINGS.sub(lambda m: " " * len(m.group()), text)):
        depth += 1 if m.group() in "[{" else -1
        if depth > max_depth:
            return _position(text, m.start())
    return None, None


def parse_json(text: str, file: str | None, *, max_depth: int, max_scalar: int) -> Any:
    decoder = json.JSONDecoder(parse_constant=_constant, object_pairs_hook=_no_duplicates, parse_int=_int)
    try:
        data = decoder.decode(text)
    except json.JSONDecodeError as e:
        raise InputError(f"not valid JSON: {e.msg}", file=file, line=e.lineno, column=e.colno, hint=_HINT) from None
    except _Refused as e:
        line, column = _locate_refusal(text, str(e), file)
        raise InputError(str(e), file=file, line=line, column=column, hint=_HINT) from None
    except RecursionError:
        line, column = _too_deep(text, max_depth)
        raise InputError(f"nested more than {max_depth} levels deep", file=file, line=line, column=column,
                         hint="cloudctl documents are a few levels deep: check the file") from None
    try:
        _check_tree(data, file, max_depth, max_scalar)
    except PathProblem as p:
        if "surrogate" in p.message:  # the YAML parser cannot read it either: find the escape itself
            found = re.search(r"\\u[dD][89abAB][0-9a-fA-F]{2}", text)
            p.where = _position(text, found.start()) if found else None
        raise
    return data


def _check_tree(data: Any, file: str | None, max_depth: int, max_scalar: int) -> None:
    """Depth, value length and finite numbers, walking the data without recursion."""
    todo: list[tuple[Any, tuple[Any, ...]]] = [(data, ())]
    while todo:
        node, path = todo.pop()
        if isinstance(node, dict):
            items: Any = node.items()
        elif isinstance(node, list):
            items = enumerate(node)
        else:
            problem = None
            if isinstance(node, str) and len(node) > max_scalar:
                problem = f"a value of {len(node):,} characters (at most {max_scalar:,})"
            elif isinstance(node, str) and not node.isascii() and _SURROGATE.search(node):
                problem = "a lone UTF-16 surrogate (\\ud800-\\udfff) is not text"
            elif isinstance(node, float) and not math.isfinite(node):
                problem = f"{node} is not a finite number"
            if problem:
                raise PathProblem(path, problem, "write a finite number" if isinstance(node, float) else None)
            continue
        if len(path) >= max_depth:
            raise PathProblem(path, f"nested more than {max_depth} levels deep",
                              "cloudctl documents are a few levels deep: check the file")
        for key, value in items:
            if isinstance(key, str) and len(key) > max_scalar:
                raise PathProblem(path, f"a key of {len(key):,} characters")
            if isinstance(key, str) and not key.isascii() and _SURROGATE.search(key):
                raise PathProblem(path, "a key holds a lone UTF-16 surrogate (\\ud800-\\udfff): not text")
            todo.append((value, (*path, key)))
