"""Rule ``global-context``: the process-wide dict becomes ContextVar bindings, import-time bindings static context."""

from __future__ import annotations

from tests.codemods._helpers import check_noop, check_transformed

WRITE_NOTE = (
    "_global_context write inside a function is now a ContextVar binding (this thread/request only); "
    "if the value is meant for the whole process, use newlog.set_static_context"
)


def test_item_assignment_in_a_function_binds_a_contextvar() -> None:
    findings = check_transformed(
        "from app.utils.structlog_config import _global_context, log_info\n"
        "\n"
        "def create_app(app):\n"
        "    _global_context['region'] = app.config['REGION']\n"
        "    log_info('started')\n",
        "from newlog import log_info\n"
        "from structlog.contextvars import bind_contextvars\n"
        "\n"
        "def create_app(app):\n"
        "    bind_contextvars(region=app.config['REGION'])\n"
        "    log_info('started')\n",
    )
    assert findings == [f"4: {WRITE_NOTE}"]


def test_key_that_is_not_an_identifier() -> None:
    check_transformed(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def bind(key, value):\n"
        "    _global_context[key] = value\n"
        "    _global_context['user-agent'] = value\n",
        "from structlog.contextvars import bind_contextvars\n"
        "\n"
        "def bind(key, value):\n"
        "    bind_contextvars(**{key: value})\n"
        "    bind_contextvars(**{'user-agent': value})\n",
    )


def test_update_pop_del_clear() -> None:
    check_transformed(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def handle(extra, pairs):\n"
        "    _global_context.update({'tenant': 't1', 'plan': 'pro'})\n"
        "    _global_context.update(extra, source='api')\n"
        "    _global_context.update(pairs.items())\n"
        "    _global_context.update([('a', 1)])\n"
        "    _global_context.pop('tenant', None)\n"
        "    del _global_context['plan'], _global_context['source']\n"
        "    _global_context.clear()\n",
        "from structlog.contextvars import (\n"
        "    bind_contextvars,\n"
        "    clear_contextvars,\n"
        "    unbind_contextvars,\n"
        ")\n"
        "\n"
        "def handle(extra, pairs):\n"
        "    bind_contextvars(tenant='t1', plan='pro')\n"
        "    bind_contextvars(**extra, source='api')\n"
        "    bind_contextvars(**pairs.items())\n"
        "    bind_contextvars(**dict([('a', 1)]))\n"
        "    unbind_contextvars('tenant')\n"
        "    unbind_contextvars('plan', 'source')\n"
        "    clear_contextvars()\n",
    )


def test_reads_use_get_contextvars() -> None:
    check_transformed(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def show(key):\n"
        "    snapshot = _global_context.copy()\n"
        "    also = dict(_global_context)\n"
        "    region = _global_context.get('region', 'local')\n"
        "    tenant = _global_context['tenant']\n"
        "    keys = sorted(_global_context.keys())\n"
        "    return key in _global_context, snapshot, also, region, tenant, keys\n",
        "from structlog.contextvars import get_contextvars\n"
        "\n"
        "def show(key):\n"
        "    snapshot = get_contextvars()\n"
        "    also = get_contextvars()\n"
        "    region = get_contextvars().get('region', 'local')\n"
        "    tenant = get_contextvars()['tenant']\n"
        "    keys = sorted(get_contextvars().keys())\n"
        "    return key in get_contextvars(), snapshot, also, region, tenant, keys\n",
    )


def test_import_time_bindings_become_static_context() -> None:
    check_transformed(
        '"""Billing."""\n'
        "from ..utils.structlog_config import _global_context, bind_context, error_monitor\n"
        "\n"
        "bind_context(service='billing')\n"
        "_global_context['team'] = 'payments'\n"
        "_global_context.update(owner='ops')\n"
        "\n"
        "def charge(user):\n"
        "    bind_context(user=user.id)\n",
        '"""Billing."""\n'
        "from newlog import bind_context, error_monitor, set_static_context\n"
        "\n"
        "set_static_context(service='billing')\n"
        "set_static_context(team='payments')\n"
        "set_static_context(owner='ops')\n"
        "\n"
        "def charge(user):\n"
        "    bind_context(user=user.id)\n",
        path="app/services/billing.py",
    )


def test_import_time_binding_drops_bind_context_when_unused() -> None:
    check_transformed(
        "from app.utils.structlog_config import bind_context, with_log_context\n"
        "\n"
        "bind_context(service='billing')\n"
        "\n"
        "@with_log_context(component='payments')\n"
        "def charge():\n"
        "    pass\n",
        "from newlog import log_context, set_static_context\n"
        "\n"
        "set_static_context(service='billing')\n"
        "\n"
        "@log_context(component='payments')\n"
        "def charge():\n"
        "    pass\n",
    )


def test_class_body_runs_at_import_time() -> None:
    check_transformed(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "class Settings:\n"
        "    _global_context['component'] = 'settings'\n",
        "from newlog import set_static_context\n\nclass Settings:\n    set_static_context(component='settings')\n",
    )


def test_context_helpers_follow_the_mapping() -> None:
    check_transformed(
        "def scoped():\n"
        "    from app.utils.structlog_config import LogContext, get_context, clear_context\n"
        "    with LogContext(operation='demo'):\n"
        "        inside = get_context()\n"
        "    clear_context()\n"
        "    return inside\n",
        "def scoped():\n"
        "    from newlog import clear_context, get_context, log_context\n"
        "    with log_context(operation='demo'):\n"
        "        inside = get_context()\n"
        "    clear_context()\n"
        "    return inside\n",
    )


def test_module_attribute_forms() -> None:
    check_transformed(
        "import app.utils.structlog_config as slc\n"
        "\n"
        "slc.bind_context(service='api')\n"
        "\n"
        "def view():\n"
        "    slc._global_context['user'] = 1\n"
        "    if slc._debug_logging_enabled:\n"
        "        slc._debug_logging_enabled = False\n"
        "    slc.log_info('x', context=slc._global_context.copy())\n",
        "import newlog\n"
        "from newlog import (\n"
        "    is_debug_logging_enabled,\n"
        "    set_debug_logging_enabled,\n"
        "    set_static_context,\n"
        ")\n"
        "from structlog.contextvars import bind_contextvars, get_contextvars\n"
        "\n"
        "set_static_context(service='api')\n"
        "\n"
        "def view():\n"
        "    bind_contextvars(user=1)\n"
        "    if is_debug_logging_enabled():\n"
        "        set_debug_logging_enabled(enabled=False)\n"
        "    newlog.log_info('x', context=get_contextvars())\n",
    )


def test_unsafe_uses_are_reported_and_left() -> None:
    findings = check_noop(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def leak(render):\n"
        "    render(_global_context)\n"
        "    ctx = _global_context\n"
        "    for key in _global_context:\n"
        "        print(key)\n"
        "    _global_context['hits'] += 1\n",
        only=["global-context"],
    )
    assert findings == [
        "4: _global_context passed as an argument; left as is",
        "5: _global_context aliased; left as is",
        "6: _global_context iterated; left as is",
        "8: _global_context updated in place (augmented assignment); left as is",
    ]


def test_a_use_left_as_is_keeps_the_import() -> None:
    findings = check_transformed(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def leak(render):\n"
        "    _global_context['a'] = 1\n"
        "    render(_global_context)\n",
        "from structlog.contextvars import bind_contextvars\n"
        "\n"
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def leak(render):\n"
        "    bind_contextvars(a=1)\n"
        "    render(_global_context)\n",
    )
    assert findings == [
        "1: '_global_context' has no newlog equivalent (the global-context rule rewrites its uses); "
        "left importing it from app.utils.structlog_config",
        f"4: {WRITE_NOTE}",
        "5: _global_context passed as an argument; left as is",
    ]


def test_global_statement_outside_the_legacy_file_is_reported() -> None:
    findings = check_noop(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "def reset():\n"
        "    global _global_context\n"
        "    _global_context = {}\n",
        only=["global-context"],
    )
    assert findings == ["4: 'global _global_context' outside the legacy file; left as is"]


def test_import_time_unbinding_and_reads_are_reported() -> None:
    findings = check_noop(
        "from app.utils.structlog_config import _global_context\n"
        "\n"
        "_global_context.clear()\n"
        "SNAPSHOT = _global_context.copy()\n",
        only=["global-context"],
    )
    assert findings == [
        "3: _global_context '.clear()' at import time has no static equivalent; left as is",
        "4: _global_context read at import time "
        "(the static context is not visible through get_contextvars()); left as is",
    ]


def test_only_this_rule_moves_only_its_names() -> None:
    check_transformed(
        "from app.utils.structlog_config import bind_context, log_info\n"
        "\n"
        "def view():\n"
        "    bind_context(a=1)\n"
        "    log_info('x')\n",
        "from newlog import bind_context\n"
        "\n"
        "from app.utils.structlog_config import log_info\n"
        "\n"
        "def view():\n"
        "    bind_context(a=1)\n"
        "    log_info('x')\n",
        only=["global-context"],
    )


def test_legacy_file_itself_when_the_stub_rule_is_excluded() -> None:
    findings = check_transformed(
        "_global_context = {}\n"
        "\n"
        "def bind_context(**kwargs):\n"
        "    _global_context.update(kwargs)\n"
        "\n"
        "def get_context():\n"
        "    return _global_context.copy()\n"
        "\n"
        "def _add_global_context(logger, method_name, event_dict):\n"
        "    global _global_context\n"
        "    event_dict.update(_global_context)\n"
        "    return event_dict\n",
        "from structlog.contextvars import bind_contextvars, get_contextvars\n"
        "_global_context = {}\n"
        "\n"
        "def bind_context(**kwargs):\n"
        "    bind_contextvars(**kwargs)\n"
        "\n"
        "def get_context():\n"
        "    return get_contextvars()\n"
        "\n"
        "def _add_global_context(logger, method_name, event_dict):\n"
        "    global _global_context\n"
        "    event_dict.update(_global_context)\n"
        "    return event_dict\n",
        path="app/utils/structlog_config.py",
        skip=["legacy-file"],
    )
    assert findings == ["11: _global_context passed as an argument; left as is"]


def test_a_local_dict_with_the_same_name_is_not_touched() -> None:
    check_noop("_global_context = {}\n_global_context['a'] = 1\n")
