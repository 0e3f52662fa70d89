"""Viber Business Messages channel for Channel Engine (Infobip /viber/2/messages)."""
