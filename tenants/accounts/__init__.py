"""Accounts: the user model. Each tenant schema has its own users; platform staff live in public."""
