"""Getting the bytes of a piece of media, whichever platform it came from.

A reply may carry media from another platform (a VK resident's photo shown in a Telegram
agency chat, or the other way round). Each platform registers a fetcher for its own media;
a transport that cannot resend a foreign ``ref`` asks the registry for the bytes and uploads
them. ``data:`` urls are decoded here for every platform.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Awaitable, Callable
from urllib.parse import unquote_to_bytes

from handlers.events import Media, Platform

MediaFetcher = Callable[[Media], Awaitable[bytes]]


class MediaUnavailable(Exception):
    """The media cannot be fetched (no fetcher for its platform, a bad url, gone)."""


def decode_data_url(url: str) -> bytes:
    """``data:[<type>][;base64],<data>`` to bytes."""
    if not url.startswith("data:"):
        raise MediaUnavailable("not a data: url")
    header, sep, data = url[5:].partition(",")
    if not sep:
        raise MediaUnavailable("malformed data: url")
    if header.endswith(";base64"):
        try:
            return base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise MediaUnavailable("malformed base64 in data: url") from exc
    return unquote_to_bytes(data)


class MediaRegistry:
    """``registry.register(Platform.TELEGRAM, fetcher)``; ``await registry.fetch(media)``."""

    def __init__(self) -> None:
        self._fetchers: dict[Platform, MediaFetcher] = {}

    def register(self, platform: Platform, fetcher: MediaFetcher) -> None:
        self._fetchers[platform] = fetcher

    def unregister(self, platform: Platform) -> None:
        self._fetchers.pop(platform, None)

    def knows(self, platform: Platform) -> bool:
        return platform in self._fetchers

    async def fetch(self, media: Media) -> bytes:
        if media.url and media.url.startswith("data:"):
            return decode_data_url(media.url)
        fetcher = self._fetchers.get(media.platform)
        if fetcher is None:
            raise MediaUnavailable(f"no fetcher for {media.platform.value} media")
        return await fetcher(media)
