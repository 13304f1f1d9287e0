"""videobot: a Discord bot for video-generation jobs on any OpenAI Videos API provider."""
