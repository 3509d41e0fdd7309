"""Results: daily series, summaries, outage statistics and writing them to disk atomically."""
