"""What a Telegram chat can show, for the core (``handlers.events.Capabilities``)."""

from bot.telegram.render import TEXT_LIMIT
from handlers.events import Capabilities

CAPABILITIES = Capabilities(
    contact_button=True,  # KeyboardButton.request_contact (Bot API reference)
    location_button=True,  # KeyboardButton.request_location
    # The Bot API reference names no limit for a label; longer ones are cut on screen.
    label_max=64,
    message_max=TEXT_LIMIT,  # sendMessage: 1-4096 characters after entity parsing
    payload_max=64,  # InlineKeyboardButton.callback_data: 1-64 bytes
    # Not in the reference either: the server refuses markup of more than 100 buttons
    # (REPLY_MARKUP_TOO_LONG), and clients squeeze more than 8 to a row out of reading.
    inline_buttons_max=100,
    inline_rows_max=100,
    inline_row_max=8,
    files_by_reference=True,  # getFile: any file the bot received, up to 20 MB
    resend_stickers=True,  # sendSticker takes the file_id of a sticker the bot received
)
