"""Command cores: plain functions taking explicit arguments, returning data; the CLI prints."""
