"""Lambda Managed Instances settings (LP345-LP349): CapacityProviderConfig and what it changes."""

from __future__ import annotations
