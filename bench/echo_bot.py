"""The framework's ceiling: a bare aiogram 3 echo bot (one Router, one handler), polling.

    TELEGRAM_BOT_TOKEN=... TELEGRAM_API_BASE=http://127.0.0.1:PORT .venv/bin/python -m bench.echo_bot

Every text message is answered with the same text in the same chat. No database, no
limiter, no logging beyond aiogram's warnings: what aiogram itself costs per message.
"""

from __future__ import annotations

import asyncio
import logging
import os

from aiogram import Bot, Dispatcher, Router
from aiogram.client.session.aiohttp import AiohttpSession
from aiogram.client.telegram import TelegramAPIServer
from aiogram.types import Message

router = Router()


@router.message()
async def echo(message: Message) -> None:
    await message.answer(message.text or "…")


async def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    session = AiohttpSession(api=TelegramAPIServer.from_base(os.environ["TELEGRAM_API_BASE"]))
    bot = Bot(os.environ["TELEGRAM_BOT_TOKEN"], session=session)
    dispatcher = Dispatcher()
    dispatcher.include_router(router)
    await dispatcher.start_polling(bot, polling_timeout=int(os.environ.get("TELEGRAM_POLL_TIMEOUT", "25")))


if __name__ == "__main__":
    asyncio.run(main())
