"""Reports and figures built from results."""
