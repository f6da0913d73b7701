"""The characterization kit: record what the legacy logging API does in an app, before and after the switch.

``python -m compat.characterize record --app 'pkg:create_app' before.json`` records, and
``python -m compat.characterize compare before.json`` records again and compares (see ``cli``).
The parts: ``program`` (the legacy API calls), ``runner`` (where they run), ``recorder``
(capture, flush, read the log table), ``normalize`` (masking), ``compare`` and ``deltas``
(THE list of allowed differences, shared with ``tests/characterization``).
"""
