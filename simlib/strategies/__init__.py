"""Pinning strategies: what each app version pins, decided at build time."""
