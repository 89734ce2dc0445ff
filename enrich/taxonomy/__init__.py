"""Reviewed taxonomy data (YAML) read by enrich.lexicon; no code lives here."""
