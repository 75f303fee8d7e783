"""Single sign-on: each tenant's own identity providers (OIDC, SAML), secrets encrypted at rest."""
