"""Ingest: sources → feeds → pages → extracted, deduplicated raw articles on the bus."""
