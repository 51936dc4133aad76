"""Showback, idle reclaim and resource requests on the shared cloud.

Pure logic: showback.py (aggregation), idle.py (lifecycle rules). I/O: openstack_ops.py
(extra OpenStack calls on the cloud adapter's connection), store.py (lifecycle state),
requests.py (the appliers of resource requests).
"""
