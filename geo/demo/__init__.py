"""The synthetic demo city: plausible, deterministic, and clearly marked as not real."""
