"""Durable function settings (LP350-LP354): DurableConfig and the SDK the function needs."""

from __future__ import annotations
