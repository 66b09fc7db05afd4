"""Governance: approval policies, the review workflow, pre-submission checks, re-review dates."""
