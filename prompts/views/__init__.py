"""Browser pages of the prompt registry."""
