"""Marketplace: the shared catalogue of exam and interview templates (public schema)."""
