"""The dispatch pipeline: outbox rounds, finishing a message for its channel, providers."""
