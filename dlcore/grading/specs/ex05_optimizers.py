"""Placeholder: specs come in the next commit."""
SPECS: list = []
