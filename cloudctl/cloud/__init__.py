"""The shared cloud: departments, plan/apply against OpenStack, the pool and quotas.

Pure parts: model, planner, pool. Store: departments. Orchestration: reconcile. The only
modules that use openstacksdk: openstack_adapter and its parts (openstack_session,
openstack_observe, openstack_apply).
"""
