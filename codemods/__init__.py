"""Rewrite applications that use the legacy ``app.utils.structlog_config`` module onto ``newlog``.

``codemods.fixers`` holds one rewrite rule per module (their registry is
``codemods.fixers.FIXERS``), ``codemods.rewrite`` runs them over one file and
``codemods.apply`` is the command line (``python -m codemods.apply PATH...``).
The legacy -> newlog name mapping is read from ``compat.mapping``.
"""
