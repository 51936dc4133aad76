"""Fixtures for the gateway tests: the lab policy (shared with the namespace lab) and builders."""

from __future__ import annotations

import copy
import datetime as dt
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from cloudctl.gateway.policy import Policy, load_policy

HERE = Path(__file__).parent
LAB_POLICY = HERE / "policies" / "lab.yaml"
GOLDEN = HERE / "golden"
AT = dt.date(2026, 11, 28)


@pytest.fixture
def lab_dict() -> dict[str, Any]:
    return copy.deepcopy(yaml.safe_load(LAB_POLICY.read_text()))


@pytest.fixture
def write_policy(tmp_path: Path) -> Callable[[dict[str, Any] | str], Path]:
    counter = iter(range(10_000))

    def write(data: dict[str, Any] | str) -> Path:
        path = tmp_path / f"policy-{next(counter)}.yaml"
        path.write_text(data if isinstance(data, str) else yaml.safe_dump(data, sort_keys=False))
        return path

    return write


@pytest.fixture
def make_policy(write_policy: Callable[[dict[str, Any] | str], Path]) -> Callable[..., Policy]:
    def make(data: dict[str, Any] | str, validate: bool = True) -> Policy:
        return load_policy(write_policy(data), validate=validate)

    return make


def nft_check(path: Path) -> subprocess.CompletedProcess[str]:
    """`nft -c -f` in a fresh user+network namespace (no change to this host's ruleset)."""
    if shutil.which("nft") is None:
        pytest.fail("nft is not installed: run scripts/test (scripts/deps.d/50-gateway.sh installs nftables)")
    return subprocess.run(["unshare", "-rn", "nft", "-c", "-f", str(path)], capture_output=True, text=True,
                          timeout=120)
