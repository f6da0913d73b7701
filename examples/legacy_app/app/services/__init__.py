"""Business services used by the blueprints."""
