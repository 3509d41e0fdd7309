"""The engine: exact expected mode, incident response, forced updates, Monte Carlo, outage spells."""
