"""Subject access requests as cases: identifiers, deadlines, search and ranking, review decisions, the bundle."""
