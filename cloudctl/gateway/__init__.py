"""Logical isolation gateways: policy, validation, semantics, analysis, nftables compile.

Pure core: no click, no subprocess. `load_policy(path)` reads a YAML policy (keeping the
line and column of every node), `check_policy` validates it, `compile_ruleset` renders
the nftables ruleset, `analyze_policy`, `query_flow` and `diff_policies` explain it.
"""
