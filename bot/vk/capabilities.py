"""What a VK chat can show, for the core (``handlers.events.Capabilities``).

Source: dev.vk.com, «Клавиатура для ботов» and messages.send.
"""

from handlers.events import Capabilities

CAPABILITIES = Capabilities(
    contact_button=False,  # VK has no button that shares a phone number
    location_button=True,  # action type "location", on a conversation keyboard (not inline)
    label_max=40,  # action.label: at most 40 characters
    message_max=4096,  # messages.send: message, at most 4096 characters
    payload_max=255,  # action.payload: at most 255 bytes
    inline_buttons_max=10,  # inline keyboard: at most 10 buttons in all (11 get error 911)
    inline_rows_max=6,  # inline keyboard: at most 6 rows
    inline_row_max=5,  # at most 5 buttons in a row
    # A file arrives as an attachment string; only photos, documents and voice messages carry
    # a link (photo sizes[].url, doc.url, audio_message.link_ogg): videos and music have none.
    files_by_reference=False,
    # A community cannot send a sticker it received back as an attachment.
    resend_stickers=False,
)
