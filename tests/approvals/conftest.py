"""Fixtures for the address-plan tests: a CLI runner that maps errors to exit codes like `cloudctl`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pytest


@dataclass
class Result:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]) -> Callable[..., Result]:
    """Run `cloudctl ARGS...` in-process through the real entry point (exit codes included)."""
    from cloudctl.cli.main import main

    def run(*args: str) -> Result:
        capsys.readouterr()
        try:
            main(list(args))
            code = 0
        except SystemExit as e:
            code = int(e.code or 0)
        captured = capsys.readouterr()
        return Result(code, captured.out, captured.err)

    return run


POLICY = {
    "name": "standard",
    "deadline": "48h",
    "groups": [
        {"name": "finance", "members": ["fin-a", "fin-b", "fin-c"], "rule": "quorum:2"},
        {"name": "security", "members": ["sec-a", "sec-b"], "rule": "any"},
        {"name": "network", "members": ["net-a"], "rule": "all"},
    ],
    "escalation": {"name": "cio", "members": ["cio"], "rule": "any"},
    "auto_approve": {"kinds": ["quota-increase"], "max": {"vcpus": 4, "ram": 8192}},
}
