"""Run a built function package locally, as Lambda runs it."""
