"""``lpack serve``: a project's HTTP-triggered functions on one local port, each request turned into the
event AWS sends for its trigger (``routes``, ``shapes``) and run in a warm execution environment."""
