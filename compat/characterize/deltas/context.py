"""Context deltas: which keys an event carries, and where their values come from."""

from __future__ import annotations


from compat.characterize.compare import StepPair
from compat.characterize.deltas import delta
from compat.characterize.deltas._pairs import context_pairs, ctx, remove_printed, result_contexts

REQUEST_IDS = ("request_id", "user_id")


NULLABLE_REQUEST_KEYS = ("request_id", "user_id", "url", "method", "ip_address", "user_agent", "current_user_role")


REQUEST_FIELDS = ("url", "method", "ip_address", "user_agent")


@delta(
    "contextvar-scope",
    "get_context() lists the context bound in this request, thread or task (ContextVars); the legacy "
    "get_context() copied the process-wide dict, so it also listed what start-up had bound there. Results "
    "only: a key a stored row carried before must still be in the row after (start-up values are static "
    "context, carried by every event)",
)
def contextvar_scope(pair: StepPair) -> int:
    global_context = pair.meta.get("global_context") or {}
    count = 0
    for legacy_value, target_value in result_contexts(pair):
        for key, value in list(legacy_value.items()):
            if key in global_context and global_context[key] == value and key not in target_value:
                del legacy_value[key]
                count += 1
    return count


@delta(
    "request-ids-in-log-context",
    "newlog binds request_id and user_id into the log context of every request, so get_context() inside a "
    "request shows them; legacy kept them only in request_id_var / user_id_var",
)
def request_ids_in_log_context(pair: StepPair) -> int:
    if pair.legacy.get("place") != "request":
        return 0
    count = 0
    for legacy_value, target_value in result_contexts(pair):
        for key in REQUEST_IDS:
            if key in target_value and key not in legacy_value:
                del target_value[key]
                count += 1
    return count


@delta(
    "call-keyword-wins",
    "an event's own keyword argument wins over a bound context value of the same key; the legacy global "
    "context was applied last and overwrote the call's keyword",
)
def call_keyword_wins(pair: StepPair) -> int:
    bound, passed = pair.meta.get("bound") or {}, pair.meta.get("passed") or {}
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        for key, value in passed.items():
            if key in bound and legacy_ctx.get(key) == bound[key] and target_ctx.get(key) == value:
                legacy_ctx[key] = value
                count += 1
    return count


@delta(
    "request-fields-from-request",
    "inside a request newlog reads url, method, ip_address and user_agent from the request itself; legacy "
    "read them from flask.g, which only the app's own before_request hook fills (null in a bare test "
    "request context)",
)
def request_fields_from_request(pair: StepPair) -> int:
    seen = pair.meta.get("request")
    if not seen:
        return 0
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        for key in REQUEST_FIELDS:
            if legacy_ctx.get(key, "<absent>") is None and seen.get(key) is not None and target_ctx.get(key) == seen[key]:
                legacy_ctx[key] = target_ctx[key]
                count += 1
    return count


@delta(
    "null-values-omitted",
    "newlog stores no context key whose value is None; the legacy handler wrote request_id, user_id, url, "
    "method, ip_address, user_agent and current_user_role as JSON null when unknown (context->>'key' is "
    "NULL either way)",
)
def null_values_omitted(pair: StepPair) -> int:
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        for key in NULLABLE_REQUEST_KEYS:
            if key in legacy_ctx and legacy_ctx[key] is None and key not in target_ctx:
                del legacy_ctx[key]
                count += 1
    return count


@delta(
    "request-id-filled",
    "newlog gives every request a request_id (X-Request-ID or a new one); legacy had one only where the "
    "app's own hook called bind_request_context",
)
def request_id_filled(pair: StepPair) -> int:
    if pair.legacy.get("place") != "request":
        return 0
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        if legacy_ctx.get("request_id") is None and target_ctx.get("request_id") == "<present>":
            legacy_ctx["request_id"] = "<present>"
            count += 1
    return count


@delta(
    "user-id-source",
    "user_id is the id bound by bind_request_context(), in a request or not; the legacy user-context "
    "processor overwrote it with current_user.id, and outside a request left it out",
)
def user_id_source(pair: StepPair) -> int:
    bound = (pair.meta.get("request_context") or {}).get("user_id")
    if bound is None:
        return 0
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        if target_ctx.get("user_id") == bound and legacy_ctx.get("user_id") != bound:
            legacy_ctx["user_id"] = bound
            count += 1
    return count


@delta(
    "request-context-outside-request",
    "bind_request_context() also binds request_id into the log context, so events outside a request carry "
    "it; legacy added request_id only inside a request",
)
def request_context_outside_request(pair: StepPair) -> int:
    if not pair.meta.get("request_context") or pair.legacy.get("place") not in ("app_context", "outside"):
        return 0
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        if target_ctx.get("request_id") == "<present>" and "request_id" not in legacy_ctx:
            del target_ctx["request_id"]
            count += 1
    return count


@delta(
    "username-from-user-context",
    "the legacy user-context processor wrote `username` = current_user.username into every authenticated "
    "event, overwriting a username the call passed; newlog keeps the call's username (the user's is in "
    "`current_username`)",
)
def username_from_user_context(pair: StepPair) -> int:
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        username = legacy_ctx.get("username")
        if username is None or username != legacy_ctx.get("current_username"):
            continue
        if target_ctx.get("username") not in (username, None):
            legacy_ctx["username"] = target_ctx["username"]
            count += 1
    return count


@delta(
    "startup-context-is-static",
    "a value the application bound at start-up (import time or the factory: the legacy global context as "
    "the first step found it) may be static context, carried by every event and shown by get_context() "
    "whatever clear_context() does in a request; legacy lost it at the first clear_context()",
)
def startup_context_is_static(pair: StepPair) -> int:
    steps = pair.legacy_doc["steps"]
    startup = (steps[0].get("meta") or {}).get("global_context") or {} if steps else {}
    count = 0
    for legacy_ctx, target_ctx in [*context_pairs(pair), *result_contexts(pair)]:
        for key, value in startup.items():
            if key not in legacy_ctx and target_ctx.get(key) == value:
                del target_ctx[key]
                count += 1
    return count


@delta(
    "static-context-everywhere",
    "app_name, app_version and environment are static context set by init_app and carried by every event; "
    "legacy added environment only inside a request",
)
def static_context_everywhere(pair: StepPair) -> int:
    environments = {
        ctx(row).get("environment") for step in pair.legacy_doc["steps"] for row in step["rows"] if ctx(row).get("environment")
    }
    count = 0
    for legacy_ctx, target_ctx in context_pairs(pair):
        if "environment" not in legacy_ctx and target_ctx.get("environment") in environments:
            del target_ctx["environment"]
            count += 1
    return count


@delta(
    "positional-args-formatted",
    "logger.info('... %s', arg) stores and prints the formatted message (as the newer legacy variant's "
    "PositionalArgumentsFormatter did); the older variant's chain had none and stored the template and the "
    "arguments under positional_args. Applies only where template % arguments is exactly the stored "
    "message (the arguments are in it, not lost); then positional_args is not stored",
)
def positional_args_formatted(pair: StepPair) -> int:
    count = 0
    for legacy_row, target_row in pair.row_pairs():
        legacy_ctx, target_ctx = ctx(legacy_row), ctx(target_row)
        args = legacy_ctx.get("positional_args")
        if not isinstance(args, list) or target_ctx.get("positional_args", args) != args:
            continue
        try:
            formatted = str(legacy_row["message"]) % tuple(args)
        except (TypeError, ValueError):
            continue
        if formatted == target_row.get("message"):
            level = str(legacy_row.get("level")).lower()
            if remove_printed(pair.legacy, [level, str(legacy_row["message"])]):
                pair.legacy["printed"] = sorted(pair.legacy["printed"] + [[level, formatted]])
            legacy_row["message"] = formatted
            if "positional_args" not in target_ctx:
                del legacy_ctx["positional_args"]
                pair.move(legacy_row, "positional_args")  # in the message now: not lost
            count += 1
    return count

