"""Bind every port on its first segment (VIF type OVS, status ACTIVE).

Neutron without agents cannot bind ports, so servers on tenant networks fail with
PortBindingFailed; this driver stands in for the agents in the dev stack only.
"""

from neutron_lib import constants
from neutron_lib.api.definitions import portbindings
from neutron_lib.plugins.ml2 import api


class BindAllMechanismDriver(api.MechanismDriver):
    def initialize(self) -> None:
        return None

    @property
    def connectivity(self) -> str:
        return portbindings.CONNECTIVITY_L2

    def bind_port(self, context) -> None:
        for segment in context.segments_to_bind:
            context.set_binding(
                segment[api.ID],
                portbindings.VIF_TYPE_OVS,
                {portbindings.CAP_PORT_FILTER: True, portbindings.OVS_HYBRID_PLUG: False},
                status=constants.PORT_STATUS_ACTIVE,
            )
            return
