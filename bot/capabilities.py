"""What each adapter's chats can show, as the adapters declare it, for ``Context``."""

from bot.console import CAPABILITIES as CONSOLE
from bot.telegram.capabilities import CAPABILITIES as TELEGRAM
from bot.vk.capabilities import CAPABILITIES as VK
from handlers.events import Capabilities, Platform

ADAPTERS: dict[Platform, Capabilities] = {
    Platform.TELEGRAM: TELEGRAM,
    Platform.VK: VK,
    Platform.CONSOLE: CONSOLE,
}
