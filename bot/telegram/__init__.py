"""The Telegram adapter: updates in (translate, polling), replies out (transport)."""
