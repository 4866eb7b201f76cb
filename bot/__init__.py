"""The Telegram side of Parley and the `parley` command."""
