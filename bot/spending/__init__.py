"""Spending control: money in micro-dollars, UTC periods, limits and the decision to start,
wait or refuse. Pure code (no Discord, no SQL): storage and the cogs both build on it."""
