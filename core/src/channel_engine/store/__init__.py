"""Storage: the contract (`Store`) and its implementations."""

from .base import Store, wants_reports

__all__ = ["Store", "wants_reports"]
