"""YAML text -> plain data and marks, one libyaml event at a time (see documents.py).

No node tree is composed and nothing recurses: a stack of open mappings and sequences is
kept, so depth is checked before a level is opened, and each alias is charged its anchor's
node count and height at the event that carries it, before anything could be expanded. Plain scalars are resolved
as YAML 1.1 does (PyYAML's SafeLoader: 443 -> int, 2026-01-01 -> date, yes -> True), with
one cache per document, since the same values recur; keys stay text (`51:` is "51").
"""

from __future__ import annotations

import math
from typing import Any

import yaml

from cloudctl.errors import InputError
from cloudctl.inputs.documents import _ALIAS_HINT, _SCALAR_TAGS, _STR, MAX_ALIAS_NODES, MAX_DIGITS, format_path

try:
    from yaml._yaml import CParser as _Parser  # libyaml
except ImportError:  # pragma: no cover - PyYAML built without libyaml (scripts/deps.d installs it)
    from yaml import Loader as _Parser  # type: ignore[assignment]

from yaml.constructor import SafeConstructor
from yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    StreamEndEvent,
)
from yaml.nodes import ScalarNode
from yaml.resolver import Resolver

_RESOLVERS = Resolver.yaml_implicit_resolvers
_CONSTRUCTOR = SafeConstructor()
_BUILT_IN = {"tag:yaml.org,2002:null", "tag:yaml.org,2002:bool", "tag:yaml.org,2002:int",
             "tag:yaml.org,2002:float", "tag:yaml.org,2002:timestamp"}
_NO_KEY = object()
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_WHERE = "not valid YAML"


def _error(message: str, file: str | None, mark: Any, path: list[Any] | None = None, *,
           hint: str | None = None) -> InputError:
    field = None
    if path:
        field = format_path(path) if len(path) <= 12 else format_path(path[:12]) + "..."
    return InputError(message, file=file, line=mark.line + 1 if mark else None,
                      column=mark.column + 1 if mark else None, field=field, hint=hint)


class _BadScalar(ValueError):
    """A scalar refused; the caller adds where (the path is only built for errors)."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _construct(tag: str, value: str) -> Any:
    """A YAML 1.1 scalar of a built-in tag as Python, refusing what cloudctl never wants."""
    if tag == "tag:yaml.org,2002:int" and len(value.lstrip("+-0")) > MAX_DIGITS:
        raise _BadScalar(f"the number {value[:20]}... has {len(value)} digits",
                         f"numbers have at most {MAX_DIGITS} digits")
    try:
        result = _CONSTRUCTOR.yaml_constructors[tag](_CONSTRUCTOR, ScalarNode(tag, value))
    except (ValueError, TypeError, OverflowError, yaml.YAMLError) as e:
        what = {"tag:yaml.org,2002:timestamp": "date", "tag:yaml.org,2002:int": "whole number"}.get(tag, "value")
        raise _BadScalar(f"{value[:40]!r} is not a valid {what} ({e})", "quote the value to keep it as text") from None
    if isinstance(result, float) and not math.isfinite(result):
        raise _BadScalar(f"{value!r} is not a finite number", "write a finite number (.inf and .nan are refused)")
    return result


def _resolve_plain(value: str) -> Any:
    for tag, regexp in _RESOLVERS.get(value[:1], ()):
        if regexp.match(value):
            if tag in _BUILT_IN:
                return _construct(tag, value)
            break
    return value


def _scalar(event: Any, value: str, resolve: bool, anchors: _Anchors, cache: dict[str, Any]) -> Any:
    """A scalar in a text with anchors, aliases or tags somewhere (the general case)."""
    tag = event.tag
    if tag is None or tag == "!" or tag == _STR:
        if tag is None and not event.style and resolve:
            obj = cache.get(value, _NO_KEY)
            if obj is _NO_KEY:
                obj = cache[value] = _resolve_plain(value)
            value = obj
    elif tag not in _SCALAR_TAGS:
        raise _BadScalar(f"the tag {tag} is not allowed",
                         "use plain values; only the standard YAML tags (!!str, !!int, ...) are read")
    elif resolve:
        value = _construct(tag, value)
    if event.anchor is not None:
        anchors.done[event.anchor] = (value, None, 1, 0)
    return value


def _path(stack: list[tuple[Any, Any, bool, Any, Any]], top: Any = None, key: Any = _NO_KEY) -> list[Any]:
    """The path of the node being read (errors only): the open containers, then KEY in TOP.

    stack[0] holds the root's one-item holder; a list on the stack already holds the child
    being read (its last item), the top one not yet."""
    path: list[Any] = [frame_key if is_map else len(container) - 1 for container, _, is_map, frame_key, _ in stack[1:]]
    if stack and top is not None:
        if not isinstance(top, dict):
            path.append(len(top))
        elif key is not _NO_KEY:
            path.append(key)
    return path


def parse_yaml(text: str, file: str | None, *, max_depth: int, max_scalar: int,
               max_alias_nodes: int = MAX_ALIAS_NODES, resolve: bool = True, marks: bool = True) -> tuple[Any, Any]:
    """(data, marks) of a one-document YAML text; InputError for anything refused or malformed."""
    parser = _Parser(text)
    try:
        simple = not ("&" in text or "*" in text or "!" in text)
        return _read(parser, file, max_depth, max_scalar, resolve, max_alias_nodes, simple, marks)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or e.context or "malformed"
        context = f" ({e.context})" if e.context and e.problem else ""
        raise _error(f"{_WHERE}: {problem}{context}", file, mark,
                     hint="check the indentation, the quoting and the ':' after each key near here") from None
    except yaml.reader.ReaderError as e:
        line = text.count("\n", 0, e.position) + 1
        column = e.position - (text.rfind("\n", 0, e.position) + 1) + 1
        char = e.character if isinstance(e.character, str) else chr(e.character)
        raise InputError(f"{_WHERE}: the character U+{ord(char):04X} is not allowed", file=file, line=line,
                         column=column, hint="remove control characters; write them as escapes "
                                             "in double quotes if they are meant") from None
    except yaml.YAMLError as e:
        raise InputError(f"{_WHERE}: {e}", file=file) from None
    finally:
        dispose = getattr(parser, "dispose", None)
        if dispose:
            dispose()


class _Anchors:
    """Anchors seen so far, and the budget their aliases spend: an alias adds its anchor's node
    count, and refuses once the document would expand by more than max_alias_nodes nodes or
    nest deeper than max_depth (so a billion-laughs bomb stops at its first few aliases)."""

    def __init__(self, file: str | None, max_depth: int, max_alias_nodes: int) -> None:
        self.file, self.max_depth, self.budget = file, max_depth, max_alias_nodes
        self.done: dict[str, tuple[Any, Any, int, int]] = {}  # name -> (value, marks, nodes, height)
        self.open: set[str] = set()

    def alias(self, event: Any, depth: int, path: list[Any]) -> tuple[Any, Any, int, int]:
        name = event.anchor
        if name not in self.done:
            problem = "refers to its own enclosing anchor" if name in self.open else "has no anchor before it"
            raise _error(f"the alias *{name} {problem}", self.file, event.start_mark, path,
                         hint="define &NAME once, before every *NAME, and outside it")
        value, marks, nodes, height = self.done[name]
        self.budget -= nodes
        if self.budget < 0:
            raise _error(f"aliases expand the document by too much (*{name} adds {nodes:,} nodes)", self.file,
                         event.start_mark, path, hint=_ALIAS_HINT)
        if depth + height > self.max_depth:
            raise _error(f"the alias *{name} nests the document more than {self.max_depth} levels deep", self.file,
                         event.start_mark, path, hint=_ALIAS_HINT)
        return value, marks, nodes, height


def _read(parser: Any, file: str | None, max_depth: int, max_scalar: int, resolve: bool,
          max_alias_nodes: int, simple: bool, keep_marks: bool) -> tuple[Any, Any]:
    """One pass over the events. Marks: a mapping's children are {key: mark of the key}, a
    list's [mark of the item]; a child that is itself a container is (mark, its children).

    A container's frame on the stack: (container, marks, is a mapping, key being read, anchor);
    anchor is None or (name, nodes before it, peak depth before it, its depth). The top
    container is in locals; stack[0] holds the root's one-item holder. SIMPLE: the text has no
    '&', '*' or '!' at all, so no event can carry an anchor, an alias or a tag. KEEP_MARKS: build
    the marks (else None is returned for them: they are found again when an error needs them)."""
    get = parser.get_event
    get()  # StreamStartEvent
    if type(get()) is StreamEndEvent:
        return None, None
    cache: dict[str, Any] = {}
    cached = cache.get
    resolve_plain = _resolve_plain
    scalar_event, mapping_end, sequence_end = ScalarEvent, MappingEndEvent, SequenceEndEvent
    anchors = _Anchors(file, max_depth, max_alias_nodes)
    root: list[Any] = []
    root_marks: list[Any] = []
    stack: list[tuple[Any, Any, bool, Any, Any]] = []
    container, marks, is_map, anchor = root, root_marks, False, None
    nodes = peak = 0  # nodes read (aliases count their anchor's), deepest nesting since the last anchor
    while True:
        event = get()
        kind = type(event)
        if is_map:
            # key: value pairs with scalar values, in one tight loop; anything else falls out of it
            while kind is scalar_event:
                key = event.value
                key_mark = event.start_mark
                if key in container or len(key) > max_scalar or (not simple and (
                        event.anchor is not None or event.tag not in (None, "!", _STR))) or (
                        key == "<<" and not event.style):
                    _refuse_key(event, container, stack, file, max_scalar)
                event = get()
                kind = type(event)
                if kind is not scalar_event:
                    break
                value = event.value
                if len(value) > max_scalar:
                    _refuse_scalar(event, file, _path(stack, container, key), max_scalar)
                try:
                    if simple:  # no anchor, alias or tag anywhere in the text: the common case
                        if not event.style and resolve:
                            obj = cached(value, _NO_KEY)
                            if obj is _NO_KEY:
                                obj = cache[value] = resolve_plain(value)
                            value = obj
                    else:
                        nodes += 1
                        value = _scalar(event, value, resolve, anchors, cache)
                except _BadScalar as e:
                    raise _error(e.message, file, event.start_mark, _path(stack, container, key), hint=e.hint) from None
                container[key] = value
                if keep_marks:
                    marks[key] = key_mark
                event = get()
                kind = type(event)
            else:
                if kind is mapping_end:
                    if anchor is not None:
                        peak = _close_anchor(anchors, anchor, (container, marks), nodes, peak)
                    container, marks, is_map, _, anchor = stack.pop()
                    continue
                raise _error("a key must be a name, not a mapping, a list or an alias", file, event.start_mark,
                             _path(stack, container))
            path_key = key
        else:
            # items that are scalars, in one tight loop
            while kind is scalar_event:
                value = event.value
                if len(value) > max_scalar:
                    _refuse_scalar(event, file, _path(stack, container), max_scalar)
                try:
                    if simple:
                        if not event.style and resolve:
                            obj = cached(value, _NO_KEY)
                            if obj is _NO_KEY:
                                obj = cache[value] = resolve_plain(value)
                            value = obj
                    else:
                        nodes += 1
                        value = _scalar(event, value, resolve, anchors, cache)
                except _BadScalar as e:
                    raise _error(e.message, file, event.start_mark, _path(stack, container), hint=e.hint) from None
                container.append(value)
                if keep_marks:
                    marks.append(event.start_mark)
                event = get()
                kind = type(event)
            if kind is sequence_end:
                if anchor is not None:
                    peak = _close_anchor(anchors, anchor, (container, marks), nodes, peak)
                container, marks, is_map, _, anchor = stack.pop()
                continue
            if kind is DocumentEndEvent:
                break
            key_mark = event.start_mark
            path_key = _NO_KEY
        # A mapping or a sequence starts, or an alias stands for one (as the value of KEY, or an item).
        depth = len(stack)
        if kind is AliasEvent:
            value, child_marks, count, height = anchors.alias(event, depth, _path(stack, container, path_key))
            nodes += count
            peak = max(peak, depth + height)
            entry = key_mark if child_marks is None else (key_mark, child_marks)
            if is_map:
                container[path_key] = value
                if keep_marks:
                    marks[path_key] = entry
            else:
                container.append(value)
                if keep_marks:
                    marks.append(entry)
            continue
        new_map = kind is MappingStartEvent
        if event.tag not in (None, "!", _MAP if new_map else _SEQ) or depth >= max_depth:
            _refuse_start(event, new_map, file, _path(stack, container, path_key), max_depth)
        nodes += 1
        if depth >= peak:
            peak = depth + 1
        new: Any = {} if new_map else []
        new_marks: Any = ({} if new_map else []) if keep_marks else None
        if is_map:
            container[path_key] = new
            if keep_marks:
                marks[path_key] = (key_mark, new_marks)
        else:
            container.append(new)
            if keep_marks:
                marks.append((event.start_mark, new_marks))
        opened = None
        if event.anchor is not None:
            opened = (event.anchor, nodes, peak, depth + 1)
            anchors.open.add(event.anchor)
            peak = depth + 1
        stack.append((container, marks, is_map, path_key, anchor))
        container, marks, is_map, anchor = new, new_marks, new_map, opened
    event = get()
    if type(event) is not StreamEndEvent:
        raise _error("more than one document in the file (a line '---' starts another)", file, event.start_mark,
                     hint="keep one document per file")
    if not keep_marks:
        return root[0], None
    return root[0], root_marks[0] if type(root_marks[0]) is tuple else (root_marks[0], None)


def _close_anchor(anchors: _Anchors, opened: tuple[str, int, int, int], done: tuple[Any, Any], nodes: int,
                  peak: int) -> int:
    """Record an anchored container that just ended; the peak depth seen before it resumes."""
    name, nodes_before, peak_before, depth = opened
    anchors.open.discard(name)
    anchors.done[name] = (done[0], done[1], nodes - nodes_before + 1, peak - depth + 1)
    return max(peak_before, peak)


def _refuse_key(event: Any, container: dict[str, Any], stack: list[Any], file: str | None, max_scalar: int) -> None:
    path = _path(stack, container)
    if event.anchor is not None:
        raise _error(f"an anchor on a key (&{event.anchor}): keys are names", file, event.start_mark, path)
    if event.tag not in (None, "!", _STR):
        raise _error(f"a key with the tag {event.tag} (keys are names)", file, event.start_mark, path)
    if len(event.value) > max_scalar:
        raise _error(f"a key of {len(event.value):,} characters", file, event.start_mark, path)
    if event.value in container:
        raise _error(f"duplicate key {event.value!r}", file, event.start_mark, [*path, event.value],
                     hint="each key appears once in a mapping; remove or rename one")
    raise _error("merge keys (<<) are not allowed", file, event.start_mark, path, hint=_ALIAS_HINT)


def _refuse_scalar(event: Any, file: str | None, path: list[Any], max_scalar: int) -> None:
    raise _error(f"a value of {len(event.value):,} characters (at most {max_scalar:,})", file, event.start_mark,
                 path, hint="values are names, addresses and numbers: check the file")


def _refuse_start(event: Any, is_map: bool, file: str | None, path: list[Any], max_depth: int) -> None:
    if event.tag not in (None, "!", _MAP if is_map else _SEQ):
        raise _error(f"the tag {event.tag} is not allowed", file, event.start_mark, path,
                     hint="use plain mappings and lists (no !!set, !!omap, !!python/...)")
    raise _error(f"nested more than {max_depth} levels deep", file, event.start_mark, path,
                 hint="cloudctl documents are a few levels deep: check the file")
