"""The server side: every host's certificate calendar, its identities and the real X.509 objects."""
