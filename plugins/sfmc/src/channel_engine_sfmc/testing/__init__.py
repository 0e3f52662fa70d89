"""Test helpers of the SFMC plugin: `FakeSfmc`, a loopback stand-in for the SFMC APIs the plugin calls."""

from .fake_sfmc import FakeSfmc

__all__ = ["FakeSfmc"]
