"""A built-in Infobip simulator: answers like Infobip and sends real-format reports back.

`create_simulator([...endpoints], api_keys=...)` or `simulator_from_plugins(plugins, ...)` give a
`Simulator` whose `.app` is served like any ASGI app. Channels describe their send endpoints with a
`SimulatorEndpoint`; `NewGenEndpoint` covers Infobip's new-gen envelope (SMS v3, Viber v2, Kakao, MMS v2,
RCS v2). What happens to a message is chosen by its destination's last digits: see `MAGIC_DESTINATIONS`.
"""

from .app import Simulator, collect_endpoints, create_simulator, simulator_from_plugins
from .endpoints import Outcome, RequestViolation, SimulatedSend, SimulatorEndpoint
from .newgen import NewGenEndpoint, error_body, seen_entry, status_body
from .outcomes import MAGIC_DESTINATIONS, Magic, magic_for, magic_table, magic_table_markdown

__all__ = [
    "MAGIC_DESTINATIONS",
    "Magic",
    "NewGenEndpoint",
    "Outcome",
    "RequestViolation",
    "SimulatedSend",
    "Simulator",
    "SimulatorEndpoint",
    "collect_endpoints",
    "create_simulator",
    "error_body",
    "magic_for",
    "magic_table",
    "magic_table_markdown",
    "seen_entry",
    "simulator_from_plugins",
    "status_body",
]
