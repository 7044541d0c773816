"""Kept for the back office's modules while they move to geo.jurisdiction (the scoping lives
below every app that scopes)."""

from geo.jurisdiction import NOTHING, estate_scope, may, profile_of, region_scope

__all__ = ["NOTHING", "estate_scope", "may", "profile_of", "region_scope"]
