"""Status callbacks: endpoints callers register, and the outbox of events to deliver to them."""
