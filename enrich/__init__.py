"""The enrich stage: taxonomy matching, policy signals, stance and relevance.

`enrich.tag.tag_text` / `enrich.tag.tag_article` are the entry points; the taxonomy is
reviewed data under enrich/taxonomy/ (docs/TAXONOMY.md).
"""
