"""Which media a staff answer can carry to the resident's platform.

Within a platform every file is resent by its own reference (a Telegram ``file_id``, a VK
attachment string). Across platforms the bytes must be fetched and uploaded: Telegram
serves any file the bot received through ``getFile`` (Bot API: up to 20 MB); a VK file
only when VK gave a link to it (documents and voice messages have one; videos, music and
stickers do not). Stickers stay on their platform. What cannot travel is refused when
staff send it, so they can send it another way; what fails later (a file too large, an
upload refused) is reported to the staff chat by the delivery report.
"""

from __future__ import annotations

from collections.abc import Sequence

from handlers.events import Media, MediaKind, Platform

FETCHED_BY_REFERENCE = frozenset({Platform.TELEGRAM})
"""Platforms whose files the bot can download by their reference alone (Bot API getFile)."""


def can_reach(media: Media, platform: Platform) -> bool:
    if media.kind is MediaKind.OTHER:
        return False
    if media.kind is MediaKind.STICKER:
        # A VK community cannot resend a sticker as an attachment; across platforms a
        # sticker means nothing.
        return media.platform is platform and platform is not Platform.VK
    if media.platform is platform:
        return True
    return media.platform in FETCHED_BY_REFERENCE or bool(media.url)


def stranded(media: Sequence[Media], platform: Platform) -> list[Media]:
    """The pieces of ``media`` that cannot reach a chat on ``platform``."""
    return [m for m in media if not can_reach(m, platform)]
