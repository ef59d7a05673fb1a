"""The desk asks the chat's declared capabilities, never which platform it is: labels are as
long as the chat shows them (VK: 40 characters, dev.vk.com «Клавиатура для ботов»; Telegram's
Bot API names no limit, we declare 64), and what a staff answer can carry follows what each
adapter declares it can fetch and resend."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.telegram.capabilities import CAPABILITIES as TELEGRAM
from bot.vk.capabilities import CAPABILITIES as VK
from handlers import contest, moderation
from handlers.answer_media import stranded
from handlers.context import Context
from handlers.events import Capabilities, ChatRef, Keyboard, Media, MediaKind, Platform
from storage.models import Appeal

LONG_AGENCY = "region-roads"  # «Министерство транспорта и дорожного хозяйства области», 53 characters


def _labels(rows: Keyboard) -> list[str]:
    return [button.text for row in rows for button in row]


def test_a_moderation_card_shows_the_agency_as_far_as_each_chat_allows(ctx: Context) -> None:
    appeal = Appeal(id=7, agency_id=LONG_AGENCY, created_at=datetime(2026, 11, 24, tzinfo=UTC))
    name = ctx.catalogue.agency(LONG_AGENCY).name  # type: ignore[union-attr]
    on_telegram = _labels(moderation.buttons(ctx, appeal, ChatRef(Platform.TELEGRAM, "-100")))[0]
    on_vk = _labels(moderation.buttons(ctx, appeal, ChatRef(Platform.VK, "2000000001")))[0]
    assert on_telegram == f"Передать: {name}"  # 63 characters: Telegram shows them all
    assert len(on_vk) == VK.label_max and on_vk.endswith("…") and f"Передать: {name}".startswith(on_vk[:-1])


def test_the_agencies_to_return_a_contested_appeal_to_fit_the_chat(ctx: Context) -> None:
    appeal = Appeal(id=7, agency_id=LONG_AGENCY, created_at=datetime(2026, 11, 24, tzinfo=UTC))
    names = [agency.name for agency in ctx.catalogue.agencies]
    for caps in (TELEGRAM, VK):
        reply = contest.return_choices(ctx, appeal, caps).replies[0]
        labels = _labels(reply.buttons)
        assert all(len(label) <= caps.label_max for label in labels)
        assert sorted(label for label in labels if not label.endswith("…")) == sorted(
            name for name in names if len(name) <= caps.label_max
        )
    telegram = _labels(contest.return_choices(ctx, appeal, TELEGRAM).replies[0].buttons)
    assert telegram[0] == ctx.catalogue.agency(LONG_AGENCY).name  # type: ignore[union-attr]  # it rejected it


def _caps(platform: Platform) -> Capabilities:
    return {Platform.TELEGRAM: TELEGRAM, Platform.VK: VK}.get(platform, Capabilities())


def test_a_file_crosses_platforms_when_its_own_can_fetch_it_by_reference_or_gave_a_link() -> None:
    telegram_video = Media(MediaKind.VIDEO, Platform.TELEGRAM, ref="BAAD")
    vk_video = Media(MediaKind.VIDEO, Platform.VK, ref="video-1_2")
    vk_document = Media(MediaKind.DOCUMENT, Platform.VK, ref="doc-1_3", url="https://vk.example/doc")
    sent = [telegram_video, vk_video, vk_document]
    assert stranded(sent, Platform.VK, _caps) == []  # each resent by its own VK reference, or fetched
    assert stranded(sent, Platform.TELEGRAM, _caps) == [vk_video]  # VK gives no file for a video
    assert stranded(sent, Platform.TELEGRAM, lambda _: Capabilities()) == [vk_video]
    assert stranded(sent, Platform.VK, lambda _: Capabilities()) == [telegram_video]  # nothing declared


def test_a_sticker_stays_on_its_platform_and_only_where_the_adapter_can_resend_it() -> None:
    telegram_sticker = Media(MediaKind.STICKER, Platform.TELEGRAM, ref="CAAC")
    vk_sticker = Media(MediaKind.STICKER, Platform.VK, ref="sticker9")
    assert stranded([telegram_sticker], Platform.TELEGRAM, _caps) == []
    assert stranded([telegram_sticker], Platform.VK, _caps) == [telegram_sticker]
    assert stranded([vk_sticker], Platform.VK, _caps) == [vk_sticker]
    assert stranded([vk_sticker], Platform.TELEGRAM, _caps) == [vk_sticker]
