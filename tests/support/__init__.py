"""What the tests share: databases built once per session, the test world, and common flows."""
