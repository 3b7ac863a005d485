"""IAM policy grammar, action database and evaluation helpers for the IAM rules."""
