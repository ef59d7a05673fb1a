"""What the dialogue remembers between events: the typed draft and where the resident is.

Saved as JSON in ``Dialogue.data`` (``{"v": 2, "draft": {...}, ...}``). Rows written by
the dialogue before it was a list of steps hold a flat dict with string keys
(``category``, ``lat``, ``mpage``, ``followup_appeal_id``…); :meth:`Memory.load` maps them,
so a resident half-way through an appeal when the bot was upgraded goes on where they were.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

VERSION = 2


class Photo(BaseModel):
    model_config = ConfigDict(frozen=True)

    platform: str
    ref: str
    unique_id: str | None = None
    url: str | None = None

    @property
    def key(self) -> str:
        """What makes two photos the same one: the platform's unique id, else the ref."""
        return self.unique_id or self.ref


class Point(BaseModel):
    model_config = ConfigDict(frozen=True)

    latitude: float
    longitude: float


class Draft(BaseModel):
    """The appeal being written. Every field is optional until the review checks it."""

    category: str | None = None
    municipality: str | None = None
    description: str | None = None
    address: str | None = None
    point: Point | None = None
    photos: list[Photo] = Field(default_factory=list)
    phone: str | None = None

    def is_empty(self) -> bool:
        return self == Draft()

    def set_address(self, address: str) -> None:
        self.address, self.point = address, None

    def set_point(self, latitude: float, longitude: float) -> None:
        self.address, self.point = None, Point(latitude=latitude, longitude=longitude)

    def clear_place(self) -> None:
        self.address, self.point = None, None


class Near(BaseModel):
    """An open appeal of the same topic near the draft's place, as the nearby step shows it:
    never its author's words, name, photos or place."""

    model_config = ConfigDict(frozen=True)

    id: int
    number: str
    status: str
    created_at: datetime
    distance_m: int | None = None
    """None: at the same address as the draft's."""


class Memory(BaseModel):
    """The draft plus the bookkeeping of the dialogue around it."""

    v: int = VERSION
    draft: Draft = Field(default_factory=Draft)
    editing: bool = False
    """A field is being changed from the review: finishing it returns to the review."""
    replacing_photos: bool = False
    """The photos are being changed from the review: the first new one replaces them all,
    «Назад» keeps them as they were."""
    page: int = 0
    """The page of the current step's list of choices."""
    resume: str | None = None
    """The step an abandoned draft was at, while the resident decides what to do with it."""
    forget_from: str | None = None
    """The step /forget was asked at, to return to on «Нет, оставить»."""
    appeal_id: int | None = None
    """The appeal a follow-up step (details, reopen comment) is about."""
    appeal_number: str | None = None
    media_group: str | None = None
    """The album whose photos are being added as details."""
    nearby: list[Near] = Field(default_factory=list)
    """Open appeals like the draft near its place, found when the nearby step was entered."""
    consent_refused: bool = False
    """«Не согласен» was pressed: what the person sent before is not held (``storage.retention``)."""
    held_at: datetime | None = None
    """When the draft began holding what a person sent before consenting (a day at most:
    ``storage.retention`` clears it after that, unanswered)."""
    prefilled: list[str] = Field(default_factory=list)
    """Steps answered by what the resident sent first (a text, a photo, a location): passed
    going forward; landing on one (by «Назад» or «Изменить») makes it an ordinary step."""
    album: str | None = None
    all_topics: bool = False
    """«Другая тема» was pressed: the topic step shows the full list, not its suggestion."""
    """The album the appeal started with: its other photos join the draft wherever they arrive."""

    def dump(self) -> dict[str, Any]:
        """Only what differs from an empty memory (nothing at all: ``{}``), with the version."""
        data: dict[str, Any] = self.model_dump(mode="json", exclude_defaults=True)
        return data | {"v": VERSION} if data else {}

    @classmethod
    def load(cls, data: dict[str, Any] | None) -> Memory:
        """What a dialogue row holds, whatever version wrote it; anything unreadable is
        an empty memory (the resident starts again rather than being stuck)."""
        if not data:
            return cls()
        try:
            if data.get("v") == VERSION:
                return cls.model_validate(data)
            return cls.model_validate(_from_v1(data))
        except (ValidationError, TypeError, ValueError):
            return cls()


def _from_v1(old: dict[str, Any]) -> dict[str, Any]:
    """The flat dict the dialogue wrote before version 2."""
    draft: dict[str, Any] = {
        key: old[key]
        for key in ("category", "municipality", "description", "address", "phone")
        if old.get(key)
    }
    if old.get("lat") is not None and old.get("lon") is not None and not old.get("address"):
        draft["point"] = {"latitude": old["lat"], "longitude": old["lon"]}
    draft["photos"] = [p for p in old.get("photos") or [] if isinstance(p, dict) and p.get("ref")]
    return {
        "draft": draft,
        "editing": bool(old.get("editing")),
        "page": old.get("mpage") or 0,
        "resume": old.get("resume"),
        "forget_from": old.get("forget_from"),
        "appeal_id": old.get("followup_appeal_id"),
        "media_group": old.get("followup_media_group"),
    }
