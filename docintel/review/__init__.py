"""docintel.review."""
