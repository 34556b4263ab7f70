"""A book beyond its text: its details (series, description, year, ISBN) and its cover image."""
