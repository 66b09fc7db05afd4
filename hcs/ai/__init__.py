"""AI personalization: slot definitions, prompts, providers and the guardrails on their output."""
