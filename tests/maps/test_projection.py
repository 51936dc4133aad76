"""The Albers projection of the map build, against Snyder's worked example and the ellipsoid's areas."""

from __future__ import annotations

import math

import numpy as np
import pytest

from cloudctl.coverage.maps.builder.projection import CHINA, Albers, fitted


def test_snyder_worked_example() -> None:
    # Snyder, Map Projections: A Working Manual (1987), p. 292: Clarke 1866, 29.5/45.5 N, origin 23 N 96 W.
    p = Albers(29.5, 45.5, 23.0, -96.0, a=6378206.4, f=1 - math.sqrt(1 - 0.00676866))
    x, y = p.forward(np.array([-75.0]), np.array([35.0]))
    assert x[0] == pytest.approx(1885472.7, abs=0.1)
    assert y[0] == pytest.approx(1535925.0, abs=0.1)


def _shoelace(x: np.ndarray, y: np.ndarray) -> float:
    return abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2


def _cell_outline(lon0: float, lat0: float, size: float, steps: int = 400) -> tuple[np.ndarray, np.ndarray]:
    t = np.linspace(0, size, steps, endpoint=False)
    lon = np.concatenate([lon0 + t, np.full(steps, lon0 + size), lon0 + size - t, np.full(steps, lon0)])
    lat = np.concatenate([np.full(steps, lat0), lat0 + t, np.full(steps, lat0 + size), lat0 + size - t])
    return lon, lat


def _ellipsoid_cell_area(lat0: float, size: float, p: Albers) -> float:
    """Exact area of a lon/lat cell on the ellipsoid: a²/2 · Δλ · (q(φ2) − q(φ1)) (Snyder eq. 3-12)."""
    q = p._q(np.array([lat0, lat0 + size]))
    return p.a ** 2 / 2 * math.radians(size) * float(q[1] - q[0])


@pytest.mark.parametrize(("lon", "lat"), [(75.0, 38.0), (105.0, 30.0), (125.0, 48.0), (110.0, 18.0), (112.0, 4.0)])
def test_areas_are_true_everywhere_on_the_map(lon: float, lat: float) -> None:
    x, y = CHINA.forward(*_cell_outline(lon, lat, 1.0))
    assert _shoelace(x, y) == pytest.approx(_ellipsoid_cell_area(lat, 1.0, CHINA), rel=2e-4)


def test_fitted_projection_uses_the_one_sixth_rule() -> None:
    p = fitted(97.0, 26.0, 109.0, 34.0)
    assert (p.lat_1, p.lat_2, p.lat_0, p.lon_0) == pytest.approx((27.333, 32.667, 30.0, 103.0), abs=1e-3)
    x, y = p.forward(np.array([103.0]), np.array([30.0]))
    assert abs(x[0]) < 1e-6 and abs(y[0]) < 1e-6  # the origin maps to (0, 0)
