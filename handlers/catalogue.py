"""The operator's catalogue: topics, municipalities, agencies and their chats, deadlines.

One TOML file (see ``catalogue.example.toml`` beside this module and README). It is read
once at start; a broken file stops the start with the file, the key and the problem named.
"""

from __future__ import annotations

import codecs
import re
import tomllib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, time
from functools import cached_property
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import babel
import phonenumbers
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from handlers.events import ChatRef, Platform
from handlers.worktime import WorkingCalendar

EXAMPLE_PATH = Path(__file__).with_name("catalogue.example.toml")

Identifier = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")]


class CatalogueError(Exception):
    """A catalogue that cannot be used, with where and why: the file, the 1-based line and
    column when known, the entry (``[[agencies]] #3 "housing"``), the key and the problem."""

    def __init__(
        self,
        path: Path | str,
        key: str,
        problem: str,
        *,
        entry: str | None = None,
        line: int | None = None,
        column: int | None = None,
    ) -> None:
        self.path, self.key, self.problem = str(path), key, problem
        self.entry, self.line, self.column = entry, line, column
        where = str(path) if line is None else f"{path}:{line}:{column or 1}"
        named = [part for part in (entry, key if key != "-" else None) if part]
        super().__init__(": ".join([where, *named, problem]))


_TELEGRAM_CHAT = re.compile(r"^-?\d{1,20}$")
_TELEGRAM_CHANNEL = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{4,31}$")
VK_PEER_BASE = 2_000_000_000
"""A VK conversation's peer id is 2000000000 + its chat number (dev.vk.com, messages)."""


def _chat(value: Any, *, channel: bool = False) -> Any:
    """A catalogue chat, checked for its platform's id format."""
    if not isinstance(value, str):
        return value
    chat = ChatRef.parse(value.strip())
    if chat.platform is Platform.TELEGRAM:
        if not _TELEGRAM_CHAT.fullmatch(chat.chat_id) and not (
            channel and _TELEGRAM_CHANNEL.fullmatch(chat.chat_id)
        ):
            also = " (or @channelname)" if channel else ""
            raise ValueError(f"{value!r}: a Telegram chat id is a number{also}, like telegram:-1001234567890")
    elif chat.platform is Platform.VK:
        if not chat.chat_id.isdigit() or int(chat.chat_id) <= VK_PEER_BASE:
            raise ValueError(
                f"{value!r}: a VK conversation's peer id is above {VK_PEER_BASE} "
                f"({VK_PEER_BASE} + the chat's number), like vk:2000000001"
            )
    else:
        raise ValueError(f"{value!r}: a chat is telegram:<chat id> or vk:<peer id>")
    return chat


def _chats(value: Any, *, channel: bool = False) -> Any:
    if isinstance(value, list | tuple):
        return tuple(_chat(v, channel=channel) for v in value)
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


DayKind = Literal["calendar", "working"]


class Category(_Strict):
    id: Identifier
    title: Annotated[str, Field(min_length=1, max_length=40)]
    first_response_hours: Annotated[float, Field(gt=0)] | None = None
    calendar_hours: bool = False
    """The first-response hours run around the clock (urgent topics), not in working time."""
    answer_days: Annotated[int, Field(gt=0, le=366)] | None = None
    answer_day_kind: DayKind | None = None
    nearby_radius_m: Annotated[int, Field(ge=1, le=1000)] | None = None
    """Overrides ``[nearby] radius_m`` for this topic (a dump site is bigger than a pothole)."""
    keywords: tuple[str, ...] = ()
    """Words that suggest this topic from a description (``handlers.dialogue.topics``):
    a keyword matches a word that begins with it, so stems catch every ending
    («фонар» — фонарь, фонари, фонарём); a phrase matches words in a row."""

    @field_validator("keywords")
    @classmethod
    def _keywords(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        seen: set[str] = set()
        cleaned = []
        for keyword in value:
            words = keyword.casefold().replace("ё", "е").split()
            if not words or any(len(word) < KEYWORD_MIN for word in words):
                raise ValueError(
                    f"keyword {keyword!r}: each word needs at least {KEYWORD_MIN} letters "
                    "(a shorter stem would match almost anything)"
                )
            if len(keyword) > KEYWORD_MAX:
                raise ValueError(f"keyword {keyword!r}: at most {KEYWORD_MAX} characters")
            normal = " ".join(words)
            if normal in seen:
                raise ValueError(f"keyword {keyword!r} is listed twice")
            seen.add(normal)
            cleaned.append(normal)
        return tuple(cleaned)


KEYWORD_MIN = 3
KEYWORD_MAX = 60


class RejectReason(_Strict):
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,15}$")]
    title: Annotated[str, Field(min_length=1, max_length=40)]


class Municipality(_Strict):
    id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=40)]
    population: Annotated[int, Field(gt=0)]


class Agency(_Strict):
    id: Identifier
    name: Annotated[str, Field(min_length=1, max_length=120)]
    chats: Annotated[tuple[ChatRef, ...], Field(min_length=1)]
    categories: Annotated[tuple[str, ...], Field(min_length=1)]
    municipalities: tuple[str, ...] = ("*",)
    """Municipality ids this agency serves, or ``"*"`` for all of them."""
    review_answers: bool = False
    """Its answers go to the admin chats first and reach the resident once approved."""

    @field_validator("chats", mode="before")
    @classmethod
    def _parse_chats(cls, value: Any) -> Any:
        return _chats(value)


class Bounds(_Strict):
    """The region's bounding box: a shared point outside it is refused."""

    south: Annotated[float, Field(ge=-90, le=90)]
    west: Annotated[float, Field(ge=-180, le=180)]
    north: Annotated[float, Field(ge=-90, le=90)]
    east: Annotated[float, Field(ge=-180, le=180)]

    @model_validator(mode="after")
    def _ordered(self) -> Bounds:
        if self.south > self.north:
            raise ValueError(f"south ({self.south}) is above north ({self.north}): swap them")
        if self.west > self.east:
            raise ValueError(f"west ({self.west}) is east of east ({self.east}): swap them")
        return self

    def contains(self, latitude: float, longitude: float) -> bool:
        return self.south <= latitude <= self.north and self.west <= longitude <= self.east


class Region(_Strict):
    name: Annotated[str, Field(min_length=1)]
    timezone: str = "Europe/Moscow"
    locale: str = "ru"
    """How dates are written (Babel's CLDR data): ``ru`` gives «02.12.2026, 15:30»."""
    working_hours: str = "09:00-18:00"
    """The agencies' working day in local time; deadlines in working hours count only it."""
    first_response_hours: Annotated[float, Field(gt=0)] = 24
    """In working hours, unless a category says ``calendar_hours = true``."""
    answer_days: Annotated[int, Field(gt=0, le=366)] = 30
    """The substantive answer's term (59-ФЗ ст. 12: 30 days from registration)."""
    answer_day_kind: DayKind = "calendar"
    answer_extension_days: Annotated[int, Field(gt=0, le=366)] = 30
    """How much the admin chat may extend an answer's term, once (59-ФЗ ст. 12 ч. 2)."""
    phone_region: str = "RU"
    """ISO 3166 code: whose numbers residents may type without a country code."""
    bounds: Bounds | None = None
    """Optional ``[region.bounds]`` (south, west, north, east); none: no check."""

    @field_validator("working_hours")
    @classmethod
    def _hours(cls, value: str) -> str:
        _parse_hours(value)
        return value

    @property
    def opening_hours(self) -> tuple[time, time]:
        return _parse_hours(self.working_hours)

    @field_validator("phone_region")
    @classmethod
    def _known_phone_region(cls, value: str) -> str:
        if value not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(f'unknown phone region {value!r} (an ISO 3166 code such as "RU")')
        return value

    @field_validator("locale")
    @classmethod
    def _known_locale(cls, value: str) -> str:
        try:
            babel.Locale.parse(value)
        except (ValueError, babel.UnknownLocaleError):
            raise ValueError(f'unknown locale {value!r} (a CLDR locale such as "ru")') from None
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value


class Digest(_Strict):
    channels: tuple[ChatRef, ...] = ()
    day_of_week: str = "mon"
    hour: Annotated[int, Field(ge=0, le=23)] = 9
    minute: Annotated[int, Field(ge=0, le=59)] = 0
    min_appeals_for_ranking: Annotated[int, Field(ge=1)] = 5
    """An agency enters the speed ranking, and a municipality the per-1,000 ranking, only
    with at least this many appeals in the period."""

    @field_validator("channels", mode="before")
    @classmethod
    def _parse_channels(cls, value: Any) -> Any:
        return _chats(value, channel=True)

    @field_validator("day_of_week")
    @classmethod
    def _day(cls, value: str) -> str:
        days = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
        if value not in days:
            raise ValueError(f"expected one of {', '.join(sorted(days))}")
        return value


class Calendar(_Strict):
    """Single days that differ from the production calendar the ``holidays`` package has."""

    days_off: tuple[date, ...] = ()
    working_days: tuple[date, ...] = ()

    @model_validator(mode="after")
    def _disjoint(self) -> Calendar:
        both = sorted(set(self.days_off) & set(self.working_days))
        if both:
            raise _Problem(("calendar",), f"{both[0].isoformat()} is both a day off and a working day")
        return self


def _parse_hours(value: str) -> tuple[time, time]:
    try:
        opens, closes = (time.fromisoformat(part.strip()) for part in value.split("-"))
    except ValueError:
        raise ValueError(f"expected working hours like '09:00-18:00', got {value!r}") from None
    if opens >= closes:
        raise ValueError(f"the working day must close after it opens: {value!r}")
    return opens, closes


class Admin(_Strict):
    chats: Annotated[tuple[ChatRef, ...], Field(min_length=1)]

    @field_validator("chats", mode="before")
    @classmethod
    def _parse_chats(cls, value: Any) -> Any:
        return _chats(value)


class Limits(_Strict):
    photos_per_appeal: Annotated[int, Field(ge=0, le=10)] = 5
    appeals_per_hour: Annotated[int, Field(ge=1)] = 5
    appeals_per_day: Annotated[int, Field(ge=1)] = 20
    messages_per_minute: Annotated[int, Field(ge=1)] = 40
    description_min: Annotated[int, Field(ge=1)] = 10
    description_max: Annotated[int, Field(ge=10, le=4000)] = 4000


class Nearby(_Strict):
    """Open appeals of the same topic near a new one's place are shown before it is filed."""

    enabled: bool = True
    radius_m: Annotated[int, Field(ge=1, le=1000)] = 50


class DeclineReason(_Strict):
    id: Identifier
    title: Annotated[str, Field(min_length=1, max_length=40)]
    """The button label in the admin chat."""
    text: Annotated[str, Field(min_length=1, max_length=500)] | None = None
    """What the resident is told (the title when unset)."""


class Moderation(_Strict):
    """``[moderation]``: new appeals are read in the admin chat before any agency sees them."""

    enabled: bool = False
    hours: Annotated[float, Field(gt=0)] = 2
    """How long moderators have; reminders come at half-way and at the end."""
    reasons: tuple[DeclineReason, ...] = (
        DeclineReason(id="spam", title="Спам, реклама"),
        DeclineReason(id="abuse", title="Оскорбления, нецензурная брань"),
        DeclineReason(
            id="competence",
            title="Не в компетенции органов власти",
            text="вопрос не относится к компетенции органов государственной власти и местного самоуправления",
        ),
        DeclineReason(id="duplicate", title="Повтор обращения", text="это повтор уже поданного обращения"),
    )

    @model_validator(mode="after")
    def _reasons(self) -> Moderation:
        if not self.reasons:
            raise _Problem(("moderation", "reasons"), "name at least one reason to turn an appeal away")
        for reason_id, count in Counter(r.id for r in self.reasons).items():
            if count > 1:
                raise _Problem(("moderation", "reasons"), f"duplicate id {reason_id!r}")
        return self

    def reason(self, reason_id: str) -> DeclineReason | None:
        return next((r for r in self.reasons if r.id == reason_id), None)


class AnswerTemplate(_Strict):
    """An answer staff pick under «Ответить»; ``{number}`` and ``{address}`` are filled in."""

    id: Identifier
    title: Annotated[str, Field(min_length=1, max_length=40)]
    text: Annotated[str, Field(min_length=1, max_length=3000)]
    categories: tuple[str, ...] = ()
    """Offered only for these topics (none: for every topic)."""

    def fill(self, number: str, address: str) -> str:
        return self.text.replace("{number}", number).replace("{address}", address)


@dataclass(frozen=True, slots=True)
class Route:
    """Where an appeal goes: an agency, or (``agency is None``) the admin chats."""

    agency: Agency | None
    chats: tuple[ChatRef, ...]


class Catalogue(_Strict):
    region: Region
    admin: Admin
    digest: Digest = Digest()
    limits: Limits = Limits()
    nearby: Nearby = Nearby()
    calendar: Calendar = Calendar()
    reject_reasons: Annotated[tuple[RejectReason, ...], Field(min_length=1, max_length=8)] = (
        RejectReason(id="not-ours", title="Вне компетенции ведомства"),
        RejectReason(id="no-details", title="Недостаточно сведений"),
        RejectReason(id="duplicate", title="Повторное обращение"),
        RejectReason(id="rude", title="Оскорбительные выражения"),
    )
    """«Отклонить» asks for one of these and a free text."""
    moderation: Moderation = Moderation()
    templates: Annotated[tuple[AnswerTemplate, ...], Field(max_length=8)] = ()
    """Answer templates offered by «Ответить» (at most 8: one keyboard on every platform)."""
    categories: Annotated[tuple[Category, ...], Field(min_length=1)]
    municipalities: Annotated[tuple[Municipality, ...], Field(min_length=1)]
    agencies: Annotated[tuple[Agency, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _consistent(self) -> Catalogue:
        sections: tuple[tuple[str, list[str]], ...] = (
            ("reject_reasons", [r.id for r in self.reject_reasons]),
            ("categories", [c.id for c in self.categories]),
            ("municipalities", [m.id for m in self.municipalities]),
            ("agencies", [a.id for a in self.agencies]),
        )
        for section, ids in sections:
            seen: set[str] = set()
            for n, item_id in enumerate(ids):
                if item_id in seen:
                    raise _Problem((section, n, "id"), f"duplicate id {item_id!r}")
                seen.add(item_id)
        category_ids = {c.id for c in self.categories}
        municipality_ids = {m.id for m in self.municipalities}
        served: set[str] = set()
        for n, agency in enumerate(self.agencies):
            for cat in agency.categories:
                if cat not in category_ids:
                    raise _Problem(("agencies", n, "categories"), f"unknown category {cat!r}")
                served.add(cat)
            for mun in agency.municipalities:
                if mun != "*" and mun not in municipality_ids:
                    raise _Problem(("agencies", n, "municipalities"), f"unknown municipality {mun!r}")
        for n, category in enumerate(self.categories):
            if category.id not in served:
                raise _Problem(("categories", n), "no agency serves it: add it to an agency's categories")
        for n, template in enumerate(self.templates):
            for cat in template.categories:
                if cat not in category_ids:
                    raise _Problem(("templates", n, "categories"), f"unknown category {cat!r}")
        owners: dict[ChatRef, str] = {}
        for n, agency in enumerate(self.agencies):
            for chat in agency.chats:
                if chat in owners:
                    raise _Problem(
                        ("agencies", n, "chats"),
                        f"chat {chat} already belongs to agency {owners[chat]!r}",
                    )
                owners[chat] = agency.id
        return self

    # -- lookups -------------------------------------------------------------------------

    @cached_property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.region.timezone)

    @cached_property
    def _categories(self) -> dict[str, Category]:
        return {c.id: c for c in self.categories}

    @cached_property
    def _municipalities(self) -> dict[str, Municipality]:
        return {m.id: m for m in self.municipalities}

    @cached_property
    def _agencies(self) -> dict[str, Agency]:
        return {a.id: a for a in self.agencies}

    @cached_property
    def _chat_owner(self) -> dict[ChatRef, Agency]:
        return {chat: a for a in self.agencies for chat in a.chats}

    def category(self, category_id: str) -> Category | None:
        return self._categories.get(category_id)

    def municipality(self, municipality_id: str) -> Municipality | None:
        return self._municipalities.get(municipality_id)

    def agency(self, agency_id: str | None) -> Agency | None:
        return self._agencies.get(agency_id) if agency_id else None

    def agency_of_chat(self, chat: ChatRef) -> Agency | None:
        return self._chat_owner.get(chat)

    def is_admin_chat(self, chat: ChatRef) -> bool:
        return chat in self.admin.chats

    def route(self, category_id: str, municipality_id: str) -> Route:
        """The agency serving this topic in this municipality; a specific municipality
        match wins over a ``"*"`` one. No agency: the admin chats, never nowhere."""
        wildcard: Agency | None = None
        for agency in self.agencies:
            if category_id not in agency.categories:
                continue
            if municipality_id in agency.municipalities:
                return Route(agency, agency.chats)
            if "*" in agency.municipalities and wildcard is None:
                wildcard = agency
        if wildcard is not None:
            return Route(wildcard, wildcard.chats)
        return Route(None, self.admin.chats)

    @cached_property
    def working_calendar(self) -> WorkingCalendar:
        opens, closes = self.region.opening_hours
        return WorkingCalendar(
            self.zone,
            opens,
            closes,
            days_off=frozenset(self.calendar.days_off),
            working_days=frozenset(self.calendar.working_days),
        )

    def serving(self, category_id: str, municipality_id: str) -> list[Agency]:
        """The agencies serving this topic in this municipality (by name or ``"*"``)."""
        return [
            a
            for a in self.agencies
            if category_id in a.categories
            and (municipality_id in a.municipalities or "*" in a.municipalities)
        ]

    def first_response_hours(self, category_id: str) -> float:
        category = self.category(category_id)
        if category is not None and category.first_response_hours is not None:
            return category.first_response_hours
        return self.region.first_response_hours

    def first_response_in_calendar_hours(self, category_id: str) -> bool:
        category = self.category(category_id)
        return category is not None and category.calendar_hours

    def answer_term(self, category_id: str) -> tuple[int, DayKind]:
        """The answer's term in days, and whether they are calendar or working days."""
        category = self.category(category_id)
        days, kind = self.region.answer_days, self.region.answer_day_kind
        if category is not None:
            days = category.answer_days or days
            kind = category.answer_day_kind or kind
        return days, kind

    def nearby_radius(self, category_id: str) -> int | None:
        """How far (metres) open appeals of the topic count as the same place; None: off."""
        category = self.category(category_id)
        if not self.nearby.enabled or category is None:
            return None
        return category.nearby_radius_m or self.nearby.radius_m

    def reject_reason(self, reason_id: str) -> RejectReason | None:
        return next((r for r in self.reject_reasons if r.id == reason_id), None)

    def all_chats(self) -> Iterable[ChatRef]:
        yield from self.admin.chats
        for agency in self.agencies:
            yield from agency.chats


class _Problem(ValueError):
    def __init__(self, loc: tuple[str | int, ...], problem: str) -> None:
        self.loc, self.problem = loc, problem
        super().__init__(f"{_key(loc)}: {problem}")


ARRAYS = ("reject_reasons", "categories", "municipalities", "agencies")


def load_catalogue(path: Path | str) -> Catalogue:
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise CatalogueError(path, "-", "file not found") from None
    except OSError as exc:
        raise CatalogueError(path, "-", f"cannot be read: {exc.strerror or exc}") from None
    if data.startswith(codecs.BOM_UTF8):
        raise CatalogueError(
            path, "-", "starts with a byte-order mark (BOM): save it as UTF-8 without BOM", line=1, column=1
        )
    try:
        source = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        column = exc.start - data.rfind(b"\n", 0, exc.start)
        raise CatalogueError(
            path,
            "-",
            f"not UTF-8 (byte 0x{data[exc.start]:02x}): save it as UTF-8",
            line=line,
            column=column,
        ) from None
    try:
        raw = tomllib.loads(source)
    except tomllib.TOMLDecodeError as exc:
        message = str(exc)
        at = _TOML_AT.search(message)
        raise CatalogueError(
            path,
            "-",
            f"not valid TOML: {_TOML_AT.sub('', message)}",
            line=int(at.group(1)) if at else None,
            column=int(at.group(2)) if at else None,
        ) from None
    return parse_catalogue(raw, path, source)


_TOML_AT = re.compile(r" \(at line (\d+), column (\d+)\)")


def parse_catalogue(
    raw: dict[str, Any], path: Path | str = "<catalogue>", source: str | None = None
) -> Catalogue:
    try:
        return Catalogue.model_validate(raw)
    except ValidationError as exc:
        error = exc.errors()[0]
        ctx_error = error.get("ctx", {}).get("error")
        if isinstance(ctx_error, _Problem):
            loc, message = ctx_error.loc, ctx_error.problem
        else:
            loc = tuple(error["loc"])
            message = str(error["msg"]).removeprefix("Value error, ")
        entry, rest = _entry(raw, loc)
        line, column = _position(source, loc) if source is not None else (None, None)
        raise CatalogueError(
            path, _key(rest) if rest else "-", message, entry=entry, line=line, column=column
        ) from None


def _key(loc: tuple[str | int, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else f".{part}" if out else str(part)
    return out or "-"


def _entry(raw: dict[str, Any], loc: tuple[str | int, ...]) -> tuple[str | None, tuple[str | int, ...]]:
    """The entry a location falls in, as the file names it, and the rest of the location:
    ``[[agencies]] #3 "housing"`` and ``("categories",)``, or ``[region.bounds]`` and ``()``."""
    if len(loc) >= 2 and loc[0] in ARRAYS and isinstance(loc[1], int):
        items = raw.get(str(loc[0]))
        item = items[loc[1]] if isinstance(items, list) and loc[1] < len(items) else None
        name = f' "{item["id"]}"' if isinstance(item, dict) and isinstance(item.get("id"), str) else ""
        return f"[[{loc[0]}]] #{loc[1] + 1}{name}", loc[2:]
    tables = [str(p) for p in loc[:-1] if isinstance(p, str)]
    if tables and len(tables) == len(loc) - 1:
        return f"[{'.'.join(tables)}]", loc[-1:]
    return None, loc


_HEADER = re.compile(r"^\s*\[(\[)?\s*([A-Za-z0-9_.\s\"-]+?)\s*\]\]?\s*(#.*)?$")


def _position(source: str, loc: tuple[str | int, ...]) -> tuple[int | None, int | None]:
    """1-based line and column of ``loc`` in the TOML text: the key inside its table, or
    the table's header when the key is absent; None when the file spells it otherwise
    (inline tables, dotted keys)."""
    lines = source.splitlines()
    headers: list[tuple[int, str, bool]] = []  # (index, name, is_array)
    for n, text in enumerate(lines):
        match = _HEADER.match(text)
        if match:
            headers.append((n, re.sub(r"\s+", "", match.group(2)), match.group(1) is not None))
    start: int | None = None
    key: str | None = None
    if len(loc) >= 2 and loc[0] in ARRAYS and isinstance(loc[1], int):
        found = [n for n, name, array in headers if array and name == loc[0]]
        if loc[1] < len(found):
            start = found[loc[1]]
        key = str(loc[2]) if len(loc) > 2 and isinstance(loc[2], str) else None
    else:
        names = [str(p) for p in loc if isinstance(p, str)]
        for cut in range(len(names), 0, -1):
            table = ".".join(names[:cut])
            found = [n for n, name, array in headers if not array and name == table]
            if found:
                start = found[0]
                key = names[cut] if cut < len(names) else None
                break
        if start is None and names:
            found = [n for n, name, _ in headers if name == names[0]]
            start = found[0] if found else None
    if start is None:
        return None, None
    if key is not None:
        end = next((n for n, _, _ in headers if n > start), len(lines))
        pattern = re.compile(rf"^(\s*){re.escape(key)}\s*=")
        for n in range(start + 1, end):
            match = pattern.match(lines[n])
            if match:
                return n + 1, len(match.group(1)) + 1
    return start + 1, len(lines[start]) - len(lines[start].lstrip()) + 1
