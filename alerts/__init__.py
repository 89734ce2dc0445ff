"""Alerts: policy state per (subject, jurisdiction) from enriched articles; mail on a shift."""
