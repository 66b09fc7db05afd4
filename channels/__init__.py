"""Channel adapters: email, SMS, chat and letters; finishing, validation, sending, webhooks."""
