"""The characterization kit: record what an app and its legacy logging do before the switch, compare after it.

``python -m compat.characterize record --app 'pkg:create_app' --database URL before.json``
records; ``python -m compat.characterize compare before.json --database URL2`` records again
(the same steps) and compares (see ``cli``). The parts, one job each:

- ``loading``: load the app as ``flask --app`` does, settings pinned from its creation on;
- ``guards``: CSRF off for the kit's client, login hooks, who answered a request;
- ``program``: the legacy-API actions, adapted to the variant found; ``places``: where they run;
- ``scenario``: the team's scenario file and the URL-map starter; ``driver``: runs its steps;
- ``recorder`` (steps, the log table) and ``normalize`` (masking, JSON-safety);
- ``runner``: one run, from loading to the document;
- ``compare``, ``deltas`` (THE allowed deltas, shared with ``tests/characterization``), ``report``.

A developer tool: the runtime shim (``compat``, ``compat.structlog_config``) never imports it.
"""
