"""Alembic revision scripts, one per schema change: ``0001_initial``, …"""
