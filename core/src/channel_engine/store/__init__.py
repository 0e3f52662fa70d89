"""Storage: the contract (`Store`) and its implementations."""

from .base import RETRY_WINDOW, Store, wants_reports

__all__ = ["RETRY_WINDOW", "Store", "wants_reports"]
