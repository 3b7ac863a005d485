"""Facts about the Lambda features of 2025-2026, one module per family of rules that reads them, each
value with its unit, its source and the date it was read (as lpack.core.limits does for quotas)."""
