"""The shared cloud: departments, plan/apply against OpenStack, the pool and quotas.

Pure parts: model, planner, pool. Store: departments. Orchestration: reconcile. The only
module that imports openstacksdk: openstack_adapter.
"""
