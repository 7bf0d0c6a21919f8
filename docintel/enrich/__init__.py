"""docintel.enrich."""
