"""VK community bot: Bots Long Poll in, the same core, ``messages.send`` out."""

from bot.vk.api import VkApi, VkApiError, VkNetworkError
from bot.vk.runner import VkRunner
from bot.vk.transport import VkTransport

__all__ = ["VkApi", "VkApiError", "VkNetworkError", "VkRunner", "VkTransport"]
