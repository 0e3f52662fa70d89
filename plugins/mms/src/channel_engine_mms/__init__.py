"""MMS channel for Channel Engine (Infobip /mms/2/messages)."""
