"""Previews of template versions: rendered outputs per channel, drafts, and rendered diffs."""
