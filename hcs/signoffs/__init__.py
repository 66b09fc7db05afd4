"""Human sign-off of AI-personalized messages: no AI text is sent before a person approves it."""
