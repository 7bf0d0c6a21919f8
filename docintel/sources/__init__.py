"""docintel.sources."""
