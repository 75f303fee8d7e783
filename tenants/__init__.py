"""Tenants: the registry of institutions, their domains, and how a tenant's schema is made.

Public schema: ``Tenant`` and ``Domain``. Tenant schemas get ``tenants.accounts`` (users).
"""
