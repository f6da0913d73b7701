"""Legacy names and import statements: who imports the legacy module (``legacy``), how import
statements are built, placed and trimmed (``statements``), and the plan that moves legacy
names to newlog, settled once per file by ``plan.finish``."""
