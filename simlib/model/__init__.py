"""The scenario: validated input models, cross-field checks, defaults and overrides."""
