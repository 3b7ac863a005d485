"""Read packages once into indexes that every rule shares."""
