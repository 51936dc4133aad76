"""Data sharing between departments (数据共享交换; docs/sharing.md): the catalogue of shareable
resources, shares requested through the one approval engine (kind `data-share`), and the flows
they open on the isolation gateways (cloudctl/gateway/shares.py).

model.py (pure rules: classes, reviewer roles, states); store.py (catalogue, filing, revocation,
reads); actions.py (the mutating actions); report.py + report_html.py (`share report`).
"""
