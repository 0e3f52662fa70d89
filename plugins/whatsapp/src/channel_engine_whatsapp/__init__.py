"""WhatsApp channel for Channel Engine (Infobip /whatsapp/1/message/template and free-form messages)."""
