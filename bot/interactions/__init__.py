"""The Discord edge: the command tree and its error handler, permissions, command sync,
attachments, cooldowns and which operation a command needs."""
