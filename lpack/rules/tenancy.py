"""Tenant isolation settings (LP355-LP359): TenancyConfig and what it cannot be combined with."""

from __future__ import annotations
