"""The central template repository: templates, immutable versions, blocks, themes and rendering."""
