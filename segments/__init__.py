"""Personas and segments: YAML definitions, customer features, rules compiled to database queries."""
