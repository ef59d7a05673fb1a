"""A small VK API client on our own aiohttp session.

Why not vkbottle's ``API``: we need four things it does not give us together. Every call
must first wait on the shared :class:`~bot.ratelimit.RateLimiter`; errors must keep VK's
code (``VKAPIError[code]`` classes are generated per code and parse answers into models we
would convert back); the long poll must be ours (vkbottle's polling starts one task per
event with no per-person order, skips events queued before start and writes a state file
into the working directory); and uploads and media downloads must go through the same
configured base and session. The client is a thin layer: ``call(method, **params)`` POSTs
form data to ``{api_base}/method/{method}`` and returns ``response`` or raises.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import aiohttp

from bot.media import MediaUnavailable
from bot.ratelimit import RateLimiter


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

    @property
    def session(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        return self._session

    async def close(self) -> None:
        if self._session is not None and not self._session.closed:
            await self._session.close()

    async def call(self, method: str, *, chat_key: str | None = None, **params: Any) -> Any:
        """Call ``method``; None values are dropped, lists joined with commas, dicts sent as JSON."""
        if self.limiter is not None:
            await self.limiter.wait(chat_key)
        form: dict[str, str] = {"access_token": self._token, "v": self.version}
        for name, value in params.items():
            if value is None:
                continue
            if isinstance(value, bool):
                form[name] = "1" if value else "0"
            elif isinstance(value, list | tuple):
                form[name] = ",".join(str(v) for v in value)
            elif isinstance(value, dict):
                form[name] = json.dumps(value, ensure_ascii=False)
            else:
                form[name] = str(value)
        body = await self._post_json(self.api_url + method, data=form, limit_s=self._timeout)
        if "error" in body:
            error = body["error"] or {}
            raise VkApiError(int(error.get("error_code", 0)), str(error.get("error_msg", "")), method)
        if "response" not in body:
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
