"""The program's own commands beside `run`: `check`, `invite`, and logging set-up."""
