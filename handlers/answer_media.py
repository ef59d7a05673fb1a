"""Which media a staff answer can carry to the resident's platform.

Within a platform every file is resent by its own reference (a Telegram ``file_id``, a VK
attachment string). Across platforms the bytes must be fetched and uploaded: a platform
whose adapter declares ``files_by_reference`` (Telegram's ``getFile``, up to 20 MB) serves
any file the bot received; another only the files it gave a link to (VK: documents and
voice messages have one; videos, music and stickers do not). A sticker stays on its
platform, and only where the adapter declares ``resend_stickers``. What cannot travel is
refused when staff send it, so they can send it another way; what fails later (a file too
large, an upload refused) is reported to the staff chat by the delivery report.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from handlers.events import Capabilities, Media, MediaKind, Platform

CapsOf = Callable[[Platform], Capabilities]
"""What a platform's chats can do (``Context.caps``)."""


def can_reach(media: Media, platform: Platform, caps: CapsOf) -> bool:
    if media.kind is MediaKind.OTHER:
        return False
    if media.kind is MediaKind.STICKER:  # across platforms a sticker means nothing
        return media.platform is platform and caps(platform).resend_stickers
    if media.platform is platform:
        return True
    return caps(media.platform).files_by_reference or bool(media.url)


def stranded(media: Sequence[Media], platform: Platform, caps: CapsOf) -> list[Media]:
    """The pieces of ``media`` that cannot reach a chat on ``platform``."""
    return [m for m in media if not can_reach(m, platform, caps)]
