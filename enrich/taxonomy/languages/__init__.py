"""Per-language words for the taxonomy files (YAML), merged by enrich.lexicon."""
