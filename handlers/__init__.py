"""The platform-neutral core: the residents' dialogue and the staff desk.

Nothing in this package imports aiogram or vkbottle.
"""
