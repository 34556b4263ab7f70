"""Finished books made ready for where people listen: podcast feeds, chapter files, uploads."""
