"""VK community bot: Bots Long Poll in, the same core, ``messages.send`` out.

Modules: ``api`` (the HTTP client), ``events`` (long-poll events to plain events),
``render`` (plain text and keyboards within VK's limits), ``transport`` (replies out),
``polling`` (the long poll into the inbox), ``runner`` (``VkRunner`` for the app).
"""
