"""``init_app(app)`` -> ``init_app(app, errors=..., identity=..., request_only=...)`` from the app's profile module.

The ``imports`` rule renames ``configure_structlog(app)`` to ``init_app(app)`` and keeps
``structlog_config.configure(app)`` as ``log_config.configure(app)`` (which calls ``init_app``
with the keywords it is given). Either way the call must carry what the legacy module coupled
to the app - its error answers and identity fields - or the app loses them the day the stub is
deleted. They come from the profile module the ``legacy-file`` rule writes
(``codemods.profile``); the import of that module is asked for with ``FileState.want_import``,
so it is placed where isort would put it.
"""

from __future__ import annotations

import libcst as cst

from codemods.engine import FileState
from codemods.profile import KEYWORDS

NO_PROFILE = (
    "{call} gets none of the app's couplings (errors=, identity=, request_only=): no profile module of "
    "{module} was found in this run; run the codemods on the folder that holds the legacy module (the project "
    "root), or write the profile module by hand (MIGRATION.md, step 2), else newlog's generic error answers "
    "and identity fields apply"
)

UNSURE = (
    "{call} may call something other than the legacy function here (a fallback definition?): if it is "
    "newlog.init_app, pass errors=, identity=, request_only= from the app's profile module by hand"
)


def with_profile(call: cst.Call, state: FileState) -> cst.Call | None:
    """``call`` with the profile keywords added (None: no profile module in this run; the caller reports it).

    A call that already passes one of the keywords is returned as it is.
    """
    if any(arg.keyword is not None and arg.keyword.value in dict(KEYWORDS) for arg in call.args):
        return call
    profile = state.options.profile_module
    if profile is None:
        return None
    parent, _, leaf = profile.rpartition(".")
    if parent:
        state.want_import(parent, leaf)
        values = {keyword: f"{leaf}.{name}" for keyword, name in KEYWORDS}
    else:  # a top-level profile module: import its names
        for _, name in KEYWORDS:
            state.want_import(profile, name)
        values = {keyword: name for keyword, name in KEYWORDS}
    return _append(call, [(keyword, cst.parse_expression(values[keyword])) for keyword, _ in KEYWORDS])


def _line(indent: str) -> cst.ParenthesizedWhitespace:
    """A line break inside the call's parentheses, then the statement's indentation plus ``indent``."""
    return cst.ParenthesizedWhitespace(
        first_line=cst.TrailingWhitespace(), indent=True, last_line=cst.SimpleWhitespace(indent)
    )


def _append(call: cst.Call, keywords: list[tuple[str, cst.BaseExpression]]) -> cst.Call:
    """``call`` with ``keywords`` appended, one argument per line as black lays out a call too long for one."""
    no_space = cst.SimpleWhitespace("")
    new = [
        cst.Arg(value=value, keyword=cst.Name(keyword), equal=cst.AssignEqual(no_space, no_space))
        for keyword, value in keywords
    ]
    if isinstance(call.whitespace_before_args, cst.ParenthesizedWhitespace) and call.args:
        # already one argument per line (maybe with comments): keep those lines, add ours the same way
        inner = call.whitespace_before_args.last_line.value
        args = list(call.args)
        last = args[-1]
        if isinstance(last.comma, cst.Comma) and isinstance(last.comma.whitespace_after, cst.ParenthesizedWhitespace):
            kept = last.comma.whitespace_after  # with the comment after the last argument, if any
            after_last = kept.with_changes(last_line=cst.SimpleWhitespace(inner))
            closing: cst.BaseParenthesizableWhitespace = _line(kept.last_line.value)
        else:
            closing = last.whitespace_after_arg
            after_last = _line(inner)
        args[-1] = last.with_changes(comma=cst.Comma(whitespace_after=after_last), whitespace_after_arg=no_space)
        new = [arg.with_changes(comma=cst.Comma(whitespace_after=_line(inner))) for arg in new]
        new[-1] = new[-1].with_changes(comma=cst.Comma(whitespace_after=closing))
        return call.with_changes(args=[*args, *new])
    args = [arg.with_changes(whitespace_after_arg=no_space) for arg in (*call.args, *new)]
    args = [arg.with_changes(comma=cst.Comma(whitespace_after=_line("    "))) for arg in args]
    args[-1] = args[-1].with_changes(comma=cst.Comma(whitespace_after=_line("")))
    return call.with_changes(whitespace_before_args=_line("    "), args=args)
