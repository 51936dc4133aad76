"""Headless Chromium for the report tests: screenshots, DOM dumps, and a blank-image check."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--hide-scrollbars", "--mute-audio", "--disable-extensions"]
TIMEOUT = 180  # a loaded 2-core CI machine starts Chromium slowly


def chromium_binary() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if path := shutil.which(name):
            return path
    raise RuntimeError("Chromium is not installed: run scripts/install-deps (Debian package chromium)")


def run_chromium(args: list[str], profile: Path) -> subprocess.CompletedProcess[str]:
    profile.mkdir(parents=True, exist_ok=True)
    cmd = [chromium_binary(), *FLAGS, f"--user-data-dir={profile}", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, check=False)


def screenshot(url: str, out: Path, profile: Path, size: tuple[int, int] = (1200, 2400)) -> Path:
    result = run_chromium([f"--window-size={size[0]},{size[1]}", f"--screenshot={out}", url], profile)
    if not out.exists():
        raise AssertionError(f"no screenshot (exit {result.returncode}): {result.stderr[-2000:]}")
    return out


def dump_dom(url: str, profile: Path) -> str:
    result = run_chromium(["--dump-dom", url], profile)
    if result.returncode != 0 or "<html" not in result.stdout:
        raise AssertionError(f"--dump-dom failed (exit {result.returncode}): {result.stderr[-2000:]}")
    return result.stdout


def png_size_and_ink(path: Path) -> tuple[int, int, float]:
    """(width, height, share of non-zero bytes in the filtered image data).

    A blank (single-colour) image filters to almost nothing but zeros; a rendered page does not.
    """
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, width, height = 8, bytearray(), 0, 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(bytes(idat))
    nonzero = len(raw) - raw.count(0)
    return width, height, nonzero / max(len(raw), 1)


class FigureParser(HTMLParser):
    """Collects every element carrying data-* figures, with the text inside it, and the tables' ids."""

    def __init__(self) -> None:
        super().__init__()
        self.elements: list[dict[str, str]] = []
        self._open: list[tuple[str, dict[str, str]]] = []
        self.table: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "table":
            self.table = a.get("id")
        if tag in ("tr", "td", "g", "div", "rect", "line", "circle"):
            entry = {"tag": tag, "table": self.table or "", "text": "", **a}
            if any(k.startswith("data-") for k in a):
                self.elements.append(entry)
            if tag not in ("rect", "line", "circle"):
                self._open.append((tag, entry))

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self.table = None
        for i in range(len(self._open) - 1, -1, -1):
            if self._open[i][0] == tag:
                del self._open[i:]
                break

    def handle_data(self, data: str) -> None:
        for _, entry in self._open:
            entry["text"] += data


def figures(dom: str) -> list[dict[str, str]]:
    parser = FigureParser()
    parser.feed(dom)
    return parser.elements
