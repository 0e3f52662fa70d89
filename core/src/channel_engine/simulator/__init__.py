"""A built-in Infobip simulator: answers like Infobip and sends real-format reports back."""

from .endpoints import Outcome, SimulatedSend, SimulatorEndpoint

__all__ = ["Outcome", "SimulatedSend", "SimulatorEndpoint"]
