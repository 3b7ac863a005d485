"""Shared by the orders and billing members: a workspace library, built into the zip from its folder."""

from importlib.metadata import version


def versions(*names: str) -> dict[str, str]:
    """The installed version of each distribution, as the zip holds it."""
    return {name: version(name) for name in names}
