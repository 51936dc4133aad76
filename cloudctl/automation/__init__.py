"""Ansible automation: the ansible-runner wrapper, per-host results, the dynamic inventory.

`runner.py` is the only module in cloudctl that imports ansible_runner. Everything else here
is plain Python over plain data: events in, per-host results out.
"""

from cloudctl.automation.results import HostResult, PlaybookResult, RunTally

__all__ = ["HostResult", "PlaybookResult", "RunTally"]
