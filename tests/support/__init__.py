"""Helpers for tests that talk to the bot as people do."""

from tests.support.chat import ButtonNotShown, ResidentChat

__all__ = ["ButtonNotShown", "ResidentChat"]
