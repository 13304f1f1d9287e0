"""A typed async client for the OpenAI Videos API contract. Knows nothing of Discord or SQLite."""
