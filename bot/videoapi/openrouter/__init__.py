"""OpenRouter's own video API (not the OpenAI contract): its shapes, catalogue and client."""
