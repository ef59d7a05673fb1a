"""The VK API client: vkbottle's ``API`` for method calls, with our limits and errors.

Method calls go through vkbottle's :class:`vkbottle.API` (its ``API_URL`` set per instance
to the configured base, PLATFORM_NOTES) over our own aiohttp session. Around it we add
what vkbottle leaves to us: every call is made under the shared
:class:`~bot.ratelimit.RateLimiter` (it counts until a second after VK's answer, as VK
counts it when it arrives); VK's errors surface as :class:`VkApiError` with their
code (the transport maps 6 and 9 to "retry later", 901 to "blocked"); a non-JSON answer
(an nginx 502 page) is a :class:`VkNetworkError` at once — vkbottle's default JSON
validator would instead reschedule the request in a blocking sleep loop, holding a sender
worker, so that validator is replaced. The Bots Long Poll loop is ours, not vkbottle's:
its polling starts one task per event with no per-person order, skips events queued
before start and writes a state file into the working directory, while ours stores each
batch in the inbox before moving ``ts`` (bot/vk/polling.py). Long-poll requests, uploads
and media downloads use the same session directly.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

import aiohttp
from vkbottle import API, AiohttpClient, VKAPIError
from vkbottle.api import ABCAPI
from vkbottle.api.response_validator import ABCResponseValidator, VKAPIErrorResponseValidator

from bot.media import MediaUnavailable
from bot.ratelimit import RateLimiter


class _StrictJson(ABCResponseValidator):
    """Parse the answer or fail: no hidden, blocking re-requests."""

    async def validate(self, method: str, data: dict[str, Any], response: Any, ctx_api: ABCAPI) -> Any:
        if isinstance(response, dict):
            return response
        try:
            parsed = json.loads(response) if isinstance(response, str | bytes) else None
        except ValueError:
            parsed = None
        if not isinstance(parsed, dict):
            raise VkNetworkError(f"{method}: the answer is not a JSON object")
        return parsed


class VkApiError(Exception):
    """VK answered ``{"error": {...}}``."""

    def __init__(self, code: int, message: str, method: str) -> None:
        self.code = code
        self.method = method
        super().__init__(f"VK error {code} in {method}: {message}")


class VkNetworkError(Exception):
    """No usable answer: a dropped connection, a timeout, a 5xx, a body that is not JSON."""


class VkApi:
    def __init__(
        self,
        token: str,
        *,
        api_base: str = "https://api.vk.com",
        version: str = "5.199",
        limiter: RateLimiter | None = None,
        timeout: float = 30.0,
    ) -> None:
        self._token = token
        self.api_url = api_base.rstrip("/") + "/method/"
        self.version = version
        self.limiter = limiter
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        self._api: API | None = None
        self._api_session: aiohttp.ClientSession | None = None

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    @property
    def api(self) -> API:
        """vkbottle's API over our session, pointed at the configured base."""
        if self._api is None or self._api_session is not self.session:
            api = API(self._token, http_client=AiohttpClient(session=self.session))
            api.API_URL = self.api_url
            api.API_VERSION = self.version
            api.response_validators = [_StrictJson(), VKAPIErrorResponseValidator()]
            self._api, self._api_session = api, self.session
        return self._api

    async def call(self, method: str, *, chat_key: str | None = None, **params: Any) -> Any:
        """Call ``method``; None values are dropped, lists joined with commas, dicts sent as
        JSON (vkbottle's request validators do this)."""
        limit = self.limiter.request(chat_key) if self.limiter is not None else contextlib.nullcontext()
        try:
            async with limit, asyncio.timeout(self._timeout):
                body = await self.api.request(method, dict(params))
        except VKAPIError as error:
            raise VkApiError(int(error.code), error.error_msg, method) from error
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise VkNetworkError(f"{method}: {exc!r}") from exc
        if not isinstance(body, dict) or "response" not in body:
            raise VkNetworkError(f"{method}: no response in the answer")
        return body["response"]

    async def long_poll(self, server: str, key: str, ts: str, wait: int) -> dict[str, Any]:
        """One Bots Long Poll request; the answer as VK gave it (``updates`` or ``failed``)."""
        params = {"act": "a_check", "key": key, "ts": ts, "wait": str(wait)}
        return await self._get_json(server, params=params, limit_s=wait + 15)

    async def upload(self, url: str, field: str, filename: str, data: bytes) -> dict[str, Any]:
        form = aiohttp.FormData()
        form.add_field(field, data, filename=filename, content_type="application/octet-stream")
        return await self._post_json(url, data=form, limit_s=self._timeout)

    async def download(self, url: str, *, limit: int = 50 * 1024 * 1024) -> bytes:
        """The bytes at ``url`` (a photo VK gave us); gone → MediaUnavailable."""
        chunks: list[bytes] = []
        size = 0
        try:
            async with self.session.get(url, timeout=aiohttp.ClientTimeout(total=self._timeout)) as resp:
                if resp.status in (403, 404, 410):
                    raise MediaUnavailable(f"GET {url.split('?')[0]}: HTTP {resp.status}")
                if resp.status != 200:
                    raise VkNetworkError(f"GET {url.split('?')[0]}: HTTP {resp.status}")
                async for chunk in resp.content.iter_chunked(64 * 1024):
                    size += len(chunk)
                    if size > limit:
                        raise MediaUnavailable(f"GET {url.split('?')[0]}: larger than {limit} bytes")
                    chunks.append(chunk)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise VkNetworkError(f"GET {url.split('?')[0]}: {exc!r}") from exc
        return b"".join(chunks)

    async def _post_json(self, url: str, *, data: Any, limit_s: float) -> dict[str, Any]:
        try:
            async with self.session.post(
                url, data=data, timeout=aiohttp.ClientTimeout(total=limit_s)
            ) as resp:
                return await self._json(resp, url)
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise VkNetworkError(f"POST {url.split('?')[0]}: {exc!r}") from exc

    async def _get_json(self, url: str, *, params: dict[str, str], limit_s: float) -> dict[str, Any]:
        try:
            async with self.session.get(
                url, params=params, timeout=aiohttp.ClientTimeout(total=limit_s)
            ) as resp:
                return await self._json(resp, url)
        except (aiohttp.ClientError, TimeoutError, asyncio.IncompleteReadError) as exc:
            raise VkNetworkError(f"GET {url.split('?')[0]}: {exc!r}") from exc

    @staticmethod
    async def _json(resp: aiohttp.ClientResponse, url: str) -> dict[str, Any]:
        if resp.status >= 500:
            raise VkNetworkError(f"{url.split('?')[0]}: HTTP {resp.status}")
        try:
            body = await resp.json(content_type=None)
        except ValueError as exc:
            raise VkNetworkError(f"{url.split('?')[0]}: not JSON (HTTP {resp.status})") from exc
        if not isinstance(body, dict):
            raise VkNetworkError(f"{url.split('?')[0]}: unexpected answer")
        return body
