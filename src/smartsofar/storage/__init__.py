"""Persistence: atomic file writes, the operating state, and the history database."""
