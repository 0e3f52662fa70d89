"""Test helpers for the engine and its plugins (a pytest plugin: `channel_engine.testing.fixtures`)."""
