"""Where the project's playbooks and inventories live (a source checkout or CLOUDCTL_PLAYBOOKS)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def playbooks_dir() -> Path:
    from cloudctl.config import environment

    return Path(environment().get("CLOUDCTL_PLAYBOOKS") or ROOT / "playbooks")


def inventories_dir() -> Path:
    return ROOT / "inventories"
