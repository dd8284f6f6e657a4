"""Analyze: small functions from DataFrames to DataFrames (ownership, IP, licenses, knowledge)."""
