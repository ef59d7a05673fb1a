"""The residents' guided dialogue: an engine and one module per step (``steps/``)."""

from handlers.dialogue.engine import ResidentDialogue
from handlers.dialogue.step import Input, Nav, Step, Turn
from handlers.dialogue.steps import FLOW, OTHERS

__all__ = ["FLOW", "OTHERS", "Input", "Nav", "ResidentDialogue", "Step", "Turn"]
