"""Billing: plans, subscriptions, seats and Stripe (public schema)."""
