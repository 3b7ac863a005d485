"""Readers of what the user wrote: one module per input format, each returning plain data."""
