"""The simulator's `/sms/3/messages`: the core's generic endpoint for Infobip's "new-gen" envelope.

SMS v3 shares that envelope (`messages[].destinations[]`, `webhooks.delivery`, `options.tracking`) and its
report shapes with Viber v2, Kakao, MMS v2 and RCS v2, so the core implements it once. It is imported when
the simulator asks, not when the plugin loads, so the engine starts without the simulator's code.
"""

from __future__ import annotations

from channel_engine.simulator import SimulatorEndpoint

from .channels import SEND_PATH


def endpoints() -> list[SimulatorEndpoint]:
    from channel_engine.simulator import NewGenEndpoint  # type: ignore[attr-defined]

    # LMS goes to the same path; its reports come back in the same shape, so one endpoint serves both.
    return [NewGenEndpoint(path=SEND_PATH, channel="sms")]
