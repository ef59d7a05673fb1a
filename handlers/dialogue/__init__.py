"""The residents' guided dialogue: consent, the appeal step by step, /my, /forget."""

from handlers.dialogue.flow import TABLE, ResidentDialogue, State, Step

__all__ = ["TABLE", "ResidentDialogue", "State", "Step"]
