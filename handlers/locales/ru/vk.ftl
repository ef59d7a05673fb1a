# VK adapter texts. VK shows one keyboard per message: these carry the extra ones.

vk-more-options = Ещё варианты:
vk-keyboard-hint = Можно выбрать на клавиатуре внизу.
vk-keyboard-closed = Клавиатура скрыта.
