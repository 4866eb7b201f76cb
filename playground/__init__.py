"""Parley without Telegram: a local Bot API server, the real bot pointed at it, and a chat page.

`playground.bot_api.BotApiServer` speaks the part of the Bot API Parley uses; the tests drive the
bot through it too. `playground.chat` serves the page, `parley.playground` starts it all.
"""
