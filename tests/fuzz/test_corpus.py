"""The fuzz corpus (corpus.yaml, cases/): every hostile input refused clearly, with nothing written.

Each case runs through the real entry point (`cloudctl.cli.main.main`, in-process, so 180
cases take seconds), or through the API's ASGI app, against one SQLite store with a few
divisions and an admin. Per case: exit 2 (HTTP 400/422), every expected fragment in the
error, none of "unexpected"/"Traceback", a digest of every table unchanged, the output
directory still empty.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from cloudctl.inputs.documents import load_document

HERE = Path(__file__).parent
CASES_DIR = HERE / "cases"
DIVISIONS = Path(__file__).parents[1] / "fixtures" / "divisions"
ADMIN = "fuzz-admin"
MANIFEST = load_document(HERE / "corpus.yaml").data
SURFACES: dict[str, dict[str, Any]] = MANIFEST["surfaces"]
CASES: list[dict[str, Any]] = MANIFEST["cases"]


def case_id(case: dict[str, Any]) -> str:
    return f"{case['surface']}:{case.get('id') or case['file']}"


@dataclass
class Run:
    code: int
    out: str
    err: str


def materialise(case: dict[str, Any], tmp: Path) -> Path:
    """The case's file: under cases/, or written now from its `generate` spec."""
    spec = case.get("generate")
    if not spec:
        return CASES_DIR / case["file"]
    path = tmp / Path(case["file"]).name
    path.write_text(spec.get("head", "") + spec["repeat"] * spec["times"] + spec.get("tail", ""), encoding="utf-8")
    return path


def expand(argv: list[str], file: Path | None, out: Path) -> list[str]:
    result = []
    for arg in argv:
        arg = arg.replace("{out}", str(out))
        if file is not None:
            arg = arg.replace("{file}", str(file))
        if arg.startswith("{case:"):
            rel, _, rest = arg[len("{case:"):].partition("}")
            arg = str(CASES_DIR / rel) + rest
        result.append(arg)
    return result


def store_digest(path: Path, set_aside: str | None = None) -> dict[str, str]:
    """Every table's rows, hashed (order-independent). SET_ASIDE: an audit action whose records
    are left out, with audit_head, the chain's head that follows them (a surface's
    `audited_before_reading`: the command authorizes, and audits that, before it reads its input)."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")]
        digest = {}
        for table in tables:
            if table == "audit_head" and set_aside:
                continue
            query = f'SELECT * FROM "{table}"'
            if table == "audit_log" and set_aside:
                query += f" WHERE action != '{set_aside}'"
            rows = sorted(repr(r) for r in conn.execute(query))
            digest[table] = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        return digest
    finally:
        conn.close()


@pytest.fixture(scope="module")
def fuzz_store(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    from cloudctl.audit import Actor
    from cloudctl.divisions.importer import import_division_files
    from cloudctl.power.roles import bootstrap
    from cloudctl.store import open_store

    path = tmp_path_factory.mktemp("fuzz") / "store.sqlite3"
    store = open_store(f"sqlite:///{path}")
    actor = Actor(ADMIN, "fuzz corpus set-up")
    import_division_files(store, [DIVISIONS / f"{name}.csv" for name in ("provinces", "cities", "areas")], actor)
    with store.begin() as conn:
        bootstrap(conn, ADMIN, actor)
    store.dispose()
    yield path


def run_cli(argv: list[str], capsys: pytest.CaptureFixture[str]) -> Run:
    from cloudctl.cli.main import main

    capsys.readouterr()
    try:
        main(argv)
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


def run_api(case: dict[str, Any], body: bytes, store_path: Path) -> Run:
    from fastapi.testclient import TestClient

    from cloudctl.api.app import ApiSettings, create_app
    from cloudctl.store import open_store

    store = open_store(f"sqlite:///{store_path}")
    try:
        client = TestClient(create_app(store, ApiSettings(process_metrics=False)), raise_server_exceptions=False)
        response = client.request(case["method"], case["path"], content=body,
                                  headers={"content-type": "application/json"})
        return Run(response.status_code, "", response.text)
    finally:
        store.dispose()


@pytest.mark.parametrize("case", CASES, ids=case_id)
def test_case_is_refused_clearly_and_changes_nothing(case: dict[str, Any], fuzz_store: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    surface = SURFACES[case["surface"]]
    if reason := case.get("pending") or surface.get("pending"):
        pytest.skip(f"pending: {reason}")
    out = tmp_path / "out"
    out.mkdir()
    file = materialise(case, tmp_path) if case.get("file") else None
    set_aside = surface.get("audited_before_reading")
    before = store_digest(fuzz_store, set_aside)
    if surface.get("api"):
        assert file is not None
        result = run_api(case, file.read_bytes(), fuzz_store)
        assert result.code in (400, 413, 422), (result.code, result.err[:500])
    else:
        argv = expand(case.get("argv") or surface["argv"], file, out)
        result = run_cli(["--db", f"sqlite:///{fuzz_store}", "--as", ADMIN, *argv], capsys)
        assert result.code == 2, (result.code, result.err[-2000:], result.out[-500:])
    for fragment in case["expect"]:
        assert fragment in result.err, (fragment, result.err[-2000:])
    assert "unexpected" not in result.err and "Traceback" not in result.err, result.err[-2000:]
    assert len(result.err) < 20_000, "an error message stays short, whatever the input"
    assert store_digest(fuzz_store, set_aside) == before, "the store changed"
    assert list(out.iterdir()) == [], "a file was written"


def test_the_corpus_covers_every_surface() -> None:
    counts: dict[str, int] = {}
    for case in CASES:
        counts[case["surface"]] = counts.get(case["surface"], 0) + 1
    assert set(counts) == set(SURFACES)
    assert len(CASES) >= 150
    assert sum(1 for c in CASES if c.get("bomb")) >= 10
    for case in CASES:
        if case.get("file") and not case.get("generate"):
            assert (CASES_DIR / case["file"]).is_file(), case["file"]
