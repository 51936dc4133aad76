"""The divisions shipped with the package: provinces → townships (44,703 rows, NBS 2023).

Villages (620k rows) are not shipped; import them on demand with `cloudctl divisions import`.
"""

from __future__ import annotations

from contextlib import ExitStack
from importlib.resources import as_file, files
from pathlib import Path

from cloudctl.audit import Actor
from cloudctl.divisions.importer import ImportResult, Progress, import_division_files
from cloudctl.store import Store

SHIPPED_FILES: tuple[str, ...] = ("provinces.csv.gz", "cities.csv.gz", "areas.csv.gz", "streets.csv.gz")


def shipped_paths(stack: ExitStack) -> list[Path]:
    """Filesystem paths of the shipped files, valid while STACK is open."""
    data = files("cloudctl.divisions") / "data"
    return [stack.enter_context(as_file(data / name)) for name in SHIPPED_FILES]


def load_shipped_divisions(store: Store, actor: Actor, progress: Progress | None = None) -> ImportResult:
    """Import (idempotently) the shipped provinces, prefectures, counties and townships."""
    with ExitStack() as stack:
        return import_division_files(store, shipped_paths(stack), actor, progress=progress)
