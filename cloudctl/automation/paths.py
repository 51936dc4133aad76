"""Where the project's playbooks and inventories live (a source checkout or CLOUDCTL_PLAYBOOKS)."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def playbooks_dir() -> Path:
    return Path(os.environ.get("CLOUDCTL_PLAYBOOKS") or ROOT / "playbooks")


def inventories_dir() -> Path:
    return ROOT / "inventories"
