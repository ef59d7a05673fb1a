"""Adapters (Telegram, VK, console), the CLI and the wiring of config, database and scheduler."""
