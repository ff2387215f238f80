"""Helpers shared by the test tiers: temporary homes for the real CLI."""
