"""docintel: document intelligence for UK local government."""

__version__ = "0.1.0"
