"""Audit log: an append-only record of security-relevant events in a tenant (tenant schema)."""
