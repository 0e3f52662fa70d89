"""The simulator's `/mms/2/messages`: the core's endpoint for Infobip's new-gen envelope.

MMS v2 shares that envelope and its delivery report and click shapes with SMS v3, Viber v2, Kakao and RCS;
the core renders the MMS inbound shape (`message` as a list of parts, the end user in `from`) and reads the
text of `content.messageSegments`, so the plugin needs no endpoint of its own. It is imported when the
simulator asks, not when the plugin loads, so the engine starts without the simulator's code.
"""

from __future__ import annotations

from channel_engine.simulator import SimulatorEndpoint

from .channels import NAME, SEND_PATH


def endpoints() -> list[SimulatorEndpoint]:
    from channel_engine.simulator import NewGenEndpoint

    return [NewGenEndpoint(path=SEND_PATH, channel=NAME)]
