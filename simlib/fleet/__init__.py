"""The app fleet: releases, adoption curves and how many users run each version on each day."""
