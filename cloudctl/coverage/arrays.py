"""The division registry as columns: numpy arrays derived once, cached by generation.

Division codes are hierarchical (2/4/6/9/12 digits), so every division's ancestors are found
by code prefix. Codes stay strings in the store; here each code gets an integer *key*
(the code right-padded with zeros to 12 digits, times 16, plus its length), which sorts like
the string and makes prefix look-ups a vectorised searchsorted.

The arrays are cached in-process and, for SQLite stores, in .npy files next to the
database, keyed by the meta value `divisions_generation` (bumped by every division import)
and the row count. Without a generation the arrays are always read afresh.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np

from cloudctl.divisions.codes import CODE_LENGTHS
from cloudctl.errors import OperationFailed
from cloudctl.store import Store

GENERATION_KEY = "divisions_generation"
_POW10 = 10 ** np.arange(11, -1, -1, dtype=np.int64)
_CACHE: dict[tuple[str, str, int], DivisionArrays] = {}
_LOCK = threading.Lock()
_KIND_CHARS = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"


def code_keys(codes: Sequence[str] | np.ndarray) -> np.ndarray:
    """Integer sort keys of digit codes (<= 12 digits); ValueError for anything else."""
    if len(codes) == 0:
        return np.zeros(0, dtype=np.int64)
    try:
        raw = np.asarray(codes, dtype="S13")
    except UnicodeEncodeError as e:
        raise ValueError(f"division codes must be digits: {e}") from e
    m = raw.view(np.uint8).reshape(len(raw), 13)
    present = m != 0
    length = present.sum(axis=1)
    digits = m[:, :12].astype(np.int64) - 48
    digits[~present[:, :12]] = 0
    if (length > 12).any() or ((digits < 0) | (digits > 9)).any():
        bad = [c for c in np.asarray(codes)[(length > 12) | ((digits < 0) | (digits > 9)).any(axis=1)][:3]]
        raise ValueError(f"division codes must be 1 to 12 digits, got {bad!r}")
    return (digits @ _POW10) * 16 + length


def keys_from_text(text: str) -> np.ndarray:
    """code_keys of comma-separated digit codes ("51,5101,510104"), without splitting the text
    into Python strings: the separators' positions give each code's length and numpy parses
    the values. ValueError when a code is empty, longer than 12 digits or not digits."""
    if not text:
        return np.zeros(0, dtype=np.int64)
    raw = np.frombuffer(text.encode("utf-8"), dtype=np.uint8)
    separators = np.flatnonzero((raw - np.uint8(48)) > 9)
    lengths = np.diff(separators, prepend=-1, append=len(raw)) - 1
    if (raw[separators] != 44).any() or (lengths < 1).any() or (lengths > 12).any():
        raise ValueError("division codes must be 1 to 12 digits, separated by commas")
    values = np.fromstring(text, dtype=np.int64, sep=",")
    return values * 10 ** (12 - lengths) * 16 + lengths


def keys_or_missing(text: str) -> np.ndarray:
    """keys_from_text, position for position, with -1 (no division has it) for a code that is not
    1 to 12 digits: a code written behind cloudctl's back names no division and is skipped."""
    try:
        return keys_from_text(text)
    except ValueError:
        codes = text.split(",")
        good = np.array([c.isascii() and c.isdigit() and len(c) <= 12 for c in codes], dtype=bool)
        keys = np.full(len(codes), -1, dtype=np.int64)
        keys[good] = code_keys([c for c, ok in zip(codes, good, strict=True) if ok])
        return keys


def prefix_keys(keys: np.ndarray, length: int) -> np.ndarray:
    """Keys of the prefixes of the given length (meaningful where the code is at least that long)."""
    scale = np.int64(10 ** (12 - length))
    return (keys // 16) // scale * scale * 16 + length


def key_to_code(key: int) -> str:
    value, length = divmod(int(key), 16)
    return f"{value:012d}"[:length]


@dataclass(frozen=True)
class DivisionArrays:
    """One row per division, sorted by key. anc[k][i] is the index of i's ancestor at level k+1
    (i itself at its own level), or -1 (higher level than k+1, or the ancestor is missing)."""

    keys: np.ndarray  # int64, ascending (see code_keys)
    level: np.ndarray  # int8, 1..5
    kind: np.ndarray | None  # int16 index into kinds; None when loaded without kinds
    kinds: tuple[str, ...]
    anc: np.ndarray  # int32, shape (4, n)

    @property
    def size(self) -> int:
        return len(self.keys)

    @property
    def has_kinds(self) -> bool:
        return self.kind is not None

    def index_of(self, codes: Sequence[str] | np.ndarray) -> np.ndarray:
        """Index of each code, -1 where it is not a division (or not a digit code)."""
        try:
            k = code_keys(codes)
        except ValueError:
            return np.array([self._index_one(c) for c in codes], dtype=np.int64)
        return self.index_of_keys(k)

    def _index_one(self, code: str) -> int:
        try:
            return int(self.index_of_keys(code_keys([code]))[0])
        except ValueError:
            return -1

    def index_of_keys(self, k: np.ndarray) -> np.ndarray:
        if self.size == 0:
            return np.full(len(k), -1, dtype=np.int64)
        idx = np.searchsorted(self.keys, k)
        idx[idx >= self.size] = self.size - 1
        return np.where(self.keys[idx] == k, idx, -1)

    def code(self, i: int) -> str:
        return key_to_code(self.keys[i])

    def codes_of(self, idx: np.ndarray) -> list[str]:
        return [key_to_code(k) for k in self.keys[idx]]

    def prefix_values(self, length: int) -> np.ndarray:
        """The first `length` digits of every code as an integer (e.g. the province number)."""
        return (self.keys // 16) // np.int64(10 ** (12 - length))

    @cached_property
    def level_positions(self) -> tuple[np.ndarray, ...]:
        """For each level 1..5, the (ascending) indexes of its divisions."""
        return tuple(np.flatnonzero(self.level == lv) for lv in range(1, len(CODE_LENGTHS) + 1))

    def subtree_ends(self, idx: np.ndarray) -> np.ndarray:
        """For divisions idx, the end of the index range [i, end) holding i and everything under it:
        in key order a code's descendants follow it contiguously, up to the next prefix."""
        keys = self.keys[idx]
        scale = 10 ** (12 - keys % 16)
        return np.searchsorted(self.keys, ((keys // 16) // scale + 1) * scale * 16)

    def kind_mask(self, names: Sequence[str]) -> np.ndarray:
        """Boolean mask of divisions whose kind is one of names."""
        if self.kind is None:
            raise RuntimeError("division arrays were loaded without kinds (need_kinds=True)")
        wanted = [i for i, k in enumerate(self.kinds) if k in set(names)]
        return np.isin(self.kind, np.array(wanted, dtype=self.kind.dtype))


def build_arrays(keys: np.ndarray, levels: np.ndarray, kind_idx: np.ndarray | None,
                 kinds: tuple[str, ...]) -> DivisionArrays:
    """Sort by key and derive the ancestor indexes."""
    order = np.argsort(keys, kind="stable")
    keys = np.asarray(keys, dtype=np.int64)[order]
    level = np.asarray(levels, dtype=np.int8)[order]
    kind = None if kind_idx is None else np.asarray(kind_idx, dtype=np.int16)[order]
    n = len(keys)
    anc = np.full((4, n), -1, dtype=np.int32)
    if n == 0:
        return DivisionArrays(keys, level, kind, kinds, anc)
    # In key order a division's descendants follow it contiguously, so its ancestor of a given
    # length is the last division of that length at or before it (when the prefix matches).
    lengths = keys % 16
    positions = np.arange(n, dtype=np.int32)
    for k, length in enumerate(CODE_LENGTHS[:4]):
        last = np.maximum.accumulate(np.where(lengths == length, positions, -1))
        found = np.maximum(last, 0)
        ok = (last >= 0) & (lengths >= length) & (keys[found] == prefix_keys(keys, length))
        anc[k] = np.where(ok, last, -1)
    return DivisionArrays(keys, level, kind, kinds, anc)


def arrays_from_columns(codes: Sequence[str], levels: Sequence[int], kinds: Sequence[str]) -> DivisionArrays:
    """Arrays from plain columns (tests, small registries)."""
    names = tuple(sorted(set(kinds)))
    index = {k: i for i, k in enumerate(names)}
    return build_arrays(code_keys(codes), np.asarray(levels), np.array([index[k] for k in kinds]), names)


def _fingerprint(cur) -> tuple[str | None, int]:  # type: ignore[no-untyped-def]
    cur.execute(f"SELECT value FROM meta WHERE key = '{GENERATION_KEY}'")
    row = cur.fetchone()
    cur.execute("SELECT COUNT(*) FROM division")
    return (row[0] if row else None), int(cur.fetchone()[0])


def _disk_path(store: Store, generation: str, count: int) -> Path | None:
    """The cache's path prefix: <db>.cache/division-arrays-<generation>-<count>; each array
    is one .npy file beside it (read without a zip archive's decompression and checksums)."""
    db = store.file  # a SQLite file (None: PostgreSQL, in-memory)
    if db is None:
        return None
    safe = "".join(ch for ch in generation if ch.isalnum() or ch in "-_.")[:40]
    return db.with_name(db.name + ".cache") / f"division-arrays-{safe}-{count}"


_COLUMNS = ("keys", "level", "anc", "kind", "kinds")


def _array_file(prefix: Path, name: str) -> Path:
    return prefix.with_name(f"{prefix.name}.{name}.npy")


def _save(prefix: Path, arrays: DivisionArrays) -> None:
    """Each array to its own file, atomically; older generations' files are removed."""
    columns = {"keys": arrays.keys, "level": arrays.level, "anc": arrays.anc}
    if arrays.kind is not None:
        columns |= {"kind": arrays.kind, "kinds": np.array(arrays.kinds, dtype=str)}
    try:
        prefix.parent.mkdir(parents=True, exist_ok=True)
        for name, values in columns.items():
            path = _array_file(prefix, name)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
            with open(tmp, "wb") as fh:
                np.save(fh, values, allow_pickle=False)
            os.replace(tmp, path)
        current = {_array_file(prefix, name).name for name in _COLUMNS}
        for old in prefix.parent.glob("division-arrays-*"):
            if old.name not in current:
                old.unlink(missing_ok=True)
    except OSError:
        pass  # a cache is an optimisation: a read-only directory just means no cache


def _load(prefix: Path, need_kinds: bool) -> DivisionArrays | None:
    def read(name: str) -> np.ndarray:  # mapped: a roll-up reads only the pages it touches
        return np.load(_array_file(prefix, name), mmap_mode="r", allow_pickle=False)

    try:
        keys, level, anc = read("keys"), read("level"), read("anc")
        kind, kinds = None, ()
        if need_kinds:
            kind, kinds = read("kind"), tuple(str(k) for k in read("kinds"))
    except (OSError, ValueError):  # missing (not cached yet, or no kinds), truncated
        return None
    n = len(keys)
    if len(level) != n or anc.shape != (4, n) or (kind is not None and len(kind) != n):
        return None
    return DivisionArrays(keys, level, kind, kinds, anc)


def key_sql(column: str, dialect: str) -> str:
    """SQL computing code_keys() of a digit-code column."""
    value = f"substr({column} || '000000000000', 1, 12)"
    cast = f"CAST({value} AS INTEGER)" if dialect == "sqlite" else f"CAST({value} AS BIGINT)"
    return f"{cast} * 16 + length({column})"


def concat_sql(expr: str, sep: str, dialect: str) -> str:
    if dialect == "sqlite":
        return f"group_concat({expr}, '{sep}')"
    return f"string_agg(CAST({expr} AS TEXT), '{sep}')"


def parse_ints(text: str | None) -> np.ndarray:
    if not text:
        return np.zeros(0, dtype=np.int64)
    return np.fromstring(text, dtype=np.int64, sep=",")


def keys_from_values(values: np.ndarray, levels: np.ndarray) -> np.ndarray:
    """code_keys from codes parsed as integers and their levels: the level gives the code's
    length (2/4/6/9/12 digits, as the registry guarantees), so leading zeros survive."""
    if len(values) != len(levels) or ((levels < 1) | (levels > len(CODE_LENGTHS))).any():
        raise OperationFailed("the division registry could not be read consistently",
                              hint="every division needs a digit code and a level 1..5")
    lengths = np.asarray(CODE_LENGTHS, dtype=np.int64)[levels - 1]
    if (values >= 10 ** lengths).any() or (values < 0).any():
        raise OperationFailed("a division code is longer than its level allows",
                              hint="codes have 2/4/6/9/12 digits for levels 1..5")
    return values * 10 ** (12 - lengths) * 16 + lengths


def read_columns(cur, dialect: str, with_kinds: bool = True):  # type: ignore[no-untyped-def]
    """(keys, levels, kind indexes or None, kind names) of every division, in one aggregated row.

    Aggregating in the database (group_concat/string_agg) and parsing one string is several
    times faster than fetching 665k row tuples; kinds travel as one character each, and
    only when asked for (the plain roll-up does not need them).
    """
    if not with_kinds:
        cur.execute(f"SELECT {concat_sql('code', ',', dialect)}, {concat_sql('level', '', dialect)} FROM division")
        codes_text, levels_text = cur.fetchone()
        levels = np.frombuffer((levels_text or "").encode("ascii"), dtype=np.uint8).astype(np.int8) - 48
        return keys_from_values(parse_ints(codes_text), levels), levels, None, ()
    cur.execute("SELECT DISTINCT kind FROM division")
    kinds = tuple(sorted(r[0] for r in cur.fetchall()))
    if not kinds:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty.astype(np.int8), empty.astype(np.int16), ()
    if len(kinds) > len(_KIND_CHARS):  # not one character each: fetch rows
        cur.execute(f"SELECT {key_sql('code', dialect)}, level, kind FROM division")
        rows = cur.fetchall()
        index = {k: i for i, k in enumerate(kinds)}
        return (np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int8),
                np.array([index[r[2]] for r in rows], dtype=np.int16), kinds)
    quote = "'"
    cases = " ".join(f"WHEN {quote}{k.replace(quote, quote * 2)}{quote} THEN '{_KIND_CHARS[i]}'"
                     for i, k in enumerate(kinds))
    cur.execute(f"SELECT {concat_sql('code', ',', dialect)}, {concat_sql('level', '', dialect)}, "
                f"{concat_sql(f'CASE kind {cases} END', '', dialect)} FROM division")
    codes_text, levels_text, kinds_text = cur.fetchone()
    levels = np.frombuffer(levels_text.encode("ascii"), dtype=np.uint8).astype(np.int8) - 48
    keys = keys_from_values(parse_ints(codes_text), levels)
    decode = np.full(256, -1, dtype=np.int16)
    decode[np.frombuffer(_KIND_CHARS.encode("ascii"), dtype=np.uint8)] = np.arange(len(_KIND_CHARS))
    kind_idx = decode[np.frombuffer(kinds_text.encode("ascii"), dtype=np.uint8)]
    if not (len(keys) == len(levels) == len(kind_idx)):
        raise OperationFailed("the division registry could not be read consistently (a level outside 1..9?)")
    return keys, levels, kind_idx, kinds


def load_division_arrays(store: Store, *, need_kinds: bool = False, use_cache: bool = True) -> DivisionArrays:
    """The registry's arrays, from the in-process cache, the .npy cache, or the store.

    need_kinds=False may return arrays without kinds (kind None), which is cheaper to read."""
    raw = store.raw_connection()
    try:
        cur = raw.cursor()
        generation, count = _fingerprint(cur)
        key = (store.url, generation or "", count)
        if use_cache and generation is not None:
            with _LOCK:
                hit = _CACHE.get(key)
            if hit is not None and (hit.has_kinds or not need_kinds):
                return hit
            path = _disk_path(store, generation, count)
            if path is not None and (loaded := _load(path, need_kinds)) is not None:
                with _LOCK:
                    _CACHE[key] = loaded
                return loaded
        try:
            columns = read_columns(cur, store.dialect, need_kinds)
        except Exception as e:  # a non-digit code makes the cast fail (PostgreSQL)
            raise OperationFailed(f"the division registry could not be read: {e}",
                                  hint="division codes must be digits") from e
        cur.close()
    finally:
        raw.close()
    arrays = build_arrays(*columns)
    if use_cache and generation is not None:
        with _LOCK:
            _CACHE.clear()
            _CACHE[key] = arrays
        path = _disk_path(store, generation, count)
        if path is not None:
            _save(path, arrays)
    return arrays


def clear_cache() -> None:
    with _LOCK:
        _CACHE.clear()
