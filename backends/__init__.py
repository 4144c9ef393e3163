"""Tier backends and the program.bin container."""
