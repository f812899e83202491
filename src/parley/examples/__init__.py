"""Example negotiating texts in the text format, shipped as package data."""
