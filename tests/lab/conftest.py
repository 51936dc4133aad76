"""The lab fixtures live in tests/lab/fixtures.py (registered for every test directory in
tests/conftest.py); the names the tests here import are re-exported."""

from .fixtures import GATEWAY, LAB_POLICY, REPO, LabContext, PacketLab

__all__ = ["GATEWAY", "LAB_POLICY", "REPO", "LabContext", "PacketLab"]
