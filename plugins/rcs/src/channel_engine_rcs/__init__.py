"""RCS channel for Channel Engine (Infobip /rcs/2/messages)."""
