"""lpack's tests, in folders that mirror lpack/."""
