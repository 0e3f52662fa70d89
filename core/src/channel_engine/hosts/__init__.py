"""Hosts built into the core (our own HTTP API). Every other host is a plugin."""
