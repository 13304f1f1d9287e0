"""The Discord edge: the command tree and its error handler, permissions, command sync,
attachments, cooldowns, which operation a command needs, and who may act (who.py)."""
