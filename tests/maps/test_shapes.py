"""Build-time geometry steps (shapely): simplification keeps shared borders, encoding is exact."""

from __future__ import annotations

import re

import numpy as np
import pytest
import shapely  # build time only; the tests get it from the test extra (scripts/install-deps)
from shapely.geometry import MultiPolygon, Polygon

from cloudctl.coverage.maps.builder.shapes import encode_dots, encode_path, simplify_coverage


def decode_path(d: str) -> list[list[tuple[int, int]]]:
    """The inverse of encode_path: rings of absolute integer points."""
    rings = []
    for ring in re.findall(r"M(-?\d+) (-?\d+)l([^z]*)z", d):
        x, y = int(ring[0]), int(ring[1])
        points = [(x, y)]
        numbers = [int(n) for n in re.findall(r"-?\d+", ring[2])]
        for dx, dy in zip(numbers[::2], numbers[1::2], strict=True):
            x, y = x + dx, y + dy
            points.append((x, y))
        rings.append(points)
    return rings


def wiggly_neighbours() -> dict[str, Polygon]:
    """Two regions sharing a border with 200 small wiggles."""
    ys = np.linspace(0, 100, 201)
    xs = 50 + np.sin(ys * 1.7) * 0.4 + np.sin(ys / 9) * 6
    border = list(zip(xs, ys, strict=True))
    west = Polygon([(0, 0), *border, (0, 100)])
    east = Polygon([(100, 0), *border, (100, 100)])
    return {"W": west, "E": east}


def test_simplified_neighbours_share_their_border_exactly() -> None:
    geoms = wiggly_neighbours()
    simple = simplify_coverage(geoms, tolerance=1.0, min_area=1.0)
    w, e = simple["W"], simple["E"]
    assert shapely.get_num_coordinates(w) < shapely.get_num_coordinates(geoms["W"]) / 3  # really simplified
    assert w.intersection(e).area == pytest.approx(0, abs=1e-9)  # no overlap
    assert w.union(e).area == pytest.approx(100 * 100, rel=1e-9)  # no gap: the shared border moved together
    assert w.area == pytest.approx(geoms["W"].area, rel=0.01)


def test_small_islands_are_dropped_but_the_main_part_stays() -> None:
    main = Polygon([(0, 0), (10, 0), (10, 10), (0, 10)])
    islet = Polygon([(20, 20), (20.5, 20), (20.5, 20.5)])
    tiny_alone = Polygon([(40, 40), (40.2, 40), (40.2, 40.2)])
    simple = simplify_coverage({"A": MultiPolygon([main, islet]), "B": tiny_alone}, tolerance=0.1, min_area=1.0)
    assert len(simple["A"].geoms) == 1 and simple["A"].area == pytest.approx(100)
    assert len(simple["B"].geoms) == 1  # the largest part of a region is always kept


def test_encode_path_round_trips_integer_rings() -> None:
    outer = [(0, 0), (30, 0), (30, 20), (0, 20)]
    hole = [(10, 5), (12, 5), (12, 9), (10, 9)]
    d = encode_path(Polygon(outer, [hole]))
    assert d.count("M") == 2 and d.endswith("z")
    rings = decode_path(d)
    assert {frozenset(r) for r in rings} == {frozenset(outer), frozenset(hole)}


def test_encode_path_rounds_and_drops_degenerate_rings() -> None:
    d = encode_path(MultiPolygon([Polygon([(0.4, 0.4), (10.6, 0.2), (10.4, 9.6)]),
                                  Polygon([(50, 50), (50.2, 50.1), (50.1, 50.3)])]))
    assert decode_path(d) == [[(0, 0), (11, 0), (10, 10)]]  # the second ring collapses to one point


def test_dots_are_deduplicated() -> None:
    assert encode_dots([(1.2, 2.2), (0.9, 1.8), (5, 5)]) == "M1 2h0M5 5h0"
