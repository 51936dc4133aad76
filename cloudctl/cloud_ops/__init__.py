"""Showback, idle reclaim and resource requests on the shared cloud.

Pure logic: showback.py (aggregation), idle.py (lifecycle rules), report_html.py (the page).
I/O: openstack_ops.py (extra OpenStack calls on the cloud adapter's connection), usage.py
(showback's reads), reclaim.py (lifecycle state in the store), requests.py (the appliers of
resource requests, registered in the approval engine).
"""
