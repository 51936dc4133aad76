"""Test-only ML2 mechanism driver for the cloudctl OpenStack dev stack (no agents)."""
