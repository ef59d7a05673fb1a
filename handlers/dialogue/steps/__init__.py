"""The steps of the residents' dialogue.

``FLOW`` is the order in which an appeal is written: next, «Назад», the skipped steps and
"Шаг N из M" all follow from it. ``OTHERS`` are the states around it.
"""

from handlers.dialogue.step import Step
from handlers.dialogue.steps.consent import Consent
from handlers.dialogue.steps.description import Description
from handlers.dialogue.steps.followup import AddDetails, ContestComment, ReopenComment
from handlers.dialogue.steps.forget import Forget
from handlers.dialogue.steps.menu import Idle, Resume
from handlers.dialogue.steps.municipality import Municipality
from handlers.dialogue.steps.nearby import Nearby
from handlers.dialogue.steps.phone import Phone
from handlers.dialogue.steps.photos import Photos
from handlers.dialogue.steps.place import Place
from handlers.dialogue.steps.review import Edit, Review
from handlers.dialogue.steps.topic import Topic

FLOW: tuple[Step, ...] = (
    Topic(),
    Municipality(),
    Description(),
    Place(),
    Nearby(),
    Photos(),
    Phone(),
    Review(),
)
OTHERS: tuple[Step, ...] = (
    Idle(),
    Consent(),
    Resume(),
    Edit(),
    Forget(),
    ReopenComment(),
    ContestComment(),
    AddDetails(),
)

__all__ = ["FLOW", "OTHERS"]
