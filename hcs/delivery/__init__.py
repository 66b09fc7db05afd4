"""Delivery: accepting messages, consent, the outbox, workers and providers."""
