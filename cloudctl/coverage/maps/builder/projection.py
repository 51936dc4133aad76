"""Albers equal-area conic projection on the ellipsoid (Snyder 1987, eq. 14-1 to 14-4 and 3-12).

Build time only: the shipped map data is already projected. Pure numpy, no PROJ needed.

Why Albers: a choropleth asks the eye to compare coloured areas, so the projection must keep
areas true (Xinjiang must not look larger than it is against Jiangsu). With standard parallels
at 25°N and 47°N and the central meridian at 105°E the shapes are close to those of China's
official small-scale maps (a conic projection on the same standard parallels).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# CGCS2000 (China's geodetic datum) and WGS 84 share a = 6378137 m; f differs in the 11th digit.
SEMI_MAJOR_M = 6378137.0
FLATTENING = 1 / 298.257222101


@dataclass(frozen=True)
class Albers:
    """lat_1, lat_2: standard parallels; lat_0, lon_0: origin (degrees)."""

    lat_1: float
    lat_2: float
    lat_0: float
    lon_0: float
    a: float = SEMI_MAJOR_M
    f: float = FLATTENING

    @property
    def e(self) -> float:
        return float(np.sqrt(self.f * (2 - self.f)))

    def _q(self, lat: np.ndarray) -> np.ndarray:
        e = self.e
        s = np.sin(np.radians(lat))
        return (1 - e * e) * (s / (1 - e * e * s * s) - np.log((1 - e * s) / (1 + e * s)) / (2 * e))

    def _m(self, lat: float) -> float:
        e = self.e
        s = np.sin(np.radians(lat))
        return float(np.cos(np.radians(lat)) / np.sqrt(1 - e * e * s * s))

    def constants(self) -> tuple[float, float, float]:
        """(n, C, rho_0) of the projection."""
        m1, m2 = self._m(self.lat_1), self._m(self.lat_2)
        q1, q2, q0 = (float(self._q(np.array(v))) for v in (self.lat_1, self.lat_2, self.lat_0))
        n = (m1 * m1 - m2 * m2) / (q2 - q1) if self.lat_1 != self.lat_2 else float(np.sin(np.radians(self.lat_1)))
        c = m1 * m1 + n * q1
        rho_0 = self.a * np.sqrt(c - n * q0) / n
        return n, c, float(rho_0)

    def forward(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Longitudes, latitudes (degrees) -> x east, y north (metres)."""
        n, c, rho_0 = self.constants()
        rho = self.a * np.sqrt(c - n * self._q(np.asarray(lat, dtype=float))) / n
        theta = np.radians(n * (np.asarray(lon, dtype=float) - self.lon_0))
        return rho * np.sin(theta), rho_0 - rho * np.cos(theta)

    def proj4(self) -> str:
        return (f"+proj=aea +lat_1={self.lat_1:g} +lat_2={self.lat_2:g} +lat_0={self.lat_0:g} "
                f"+lon_0={self.lon_0:g} +ellps=GRS80 +units=m")


CHINA = Albers(lat_1=25.0, lat_2=47.0, lat_0=0.0, lon_0=105.0)


def fitted(min_lon: float, min_lat: float, max_lon: float, max_lat: float) -> Albers:
    """An Albers projection for a smaller region: the usual one-sixth rule for the standard
    parallels (1/6 and 5/6 of the latitude range), origin at the centre of the box."""
    span = max_lat - min_lat
    return Albers(lat_1=round(min_lat + span / 6, 3), lat_2=round(max_lat - span / 6, 3),
                  lat_0=round((min_lat + max_lat) / 2, 3), lon_0=round((min_lon + max_lon) / 2, 3))
