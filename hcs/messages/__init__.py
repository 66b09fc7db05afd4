"""Messages as the API accepts them: the model, acceptance, consent, idempotency, events."""
