"""Access: roles and permissions, the sign-up and MFA policy, invitations, sessions and network
rules of a tenant (tenant schema)."""
