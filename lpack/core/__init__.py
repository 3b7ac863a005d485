"""Foundation: errors, findings, targets, limits, sizes, the stdlib list, files, the clock. Imports nothing else of lpack."""
