"""The application's side of each channel: the registry (`registry.CHANNELS`), an entry each.

The adapters themselves live in the leaf package `channels`; an entry here says how HCS uses
one: the recipient's field and key, preview issues and extras, render extras, and outlets that
build the configured provider once and finish and send messages through it.
"""
