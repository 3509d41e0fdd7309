"""Client platforms: trust stores, path building and the chains each device builds per day."""
