"""The execution role of a durable function (LP590-LP594): the checkpoint permissions it needs."""

from __future__ import annotations
