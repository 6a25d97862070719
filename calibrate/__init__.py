"""Fit MQL scoring and thresholds to history."""
