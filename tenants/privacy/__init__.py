"""Privacy: a person's data export, erasure by a tenant admin, and retention (tenant schema)."""
