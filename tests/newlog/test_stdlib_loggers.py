"""newlog's loggers are stdlib-style bound loggers, as the legacy module's were (``structlog.stdlib.BoundLogger``).

Applications call them as stdlib loggers: ``isEnabledFor`` / ``getEffectiveLevel`` /
``setLevel`` / ``name`` answer with the stdlib logger of the same name, ``log(level, ...)``
and ``exception`` log, printf-style arguments are formatted. What is stored does not depend
on the stdlib levels (the database keeps ``LOG_DB_LEVEL``), as with the legacy module.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
import structlog

import newlog
from tests.support import stored_rows


@pytest.fixture
def system_logger() -> Iterator[logging.Logger]:
    """The stdlib "system" logger, its level restored afterwards."""
    stdlib = logging.getLogger("system")
    level = stdlib.level
    yield stdlib
    stdlib.setLevel(level)


def test_a_bound_logger_is_a_stdlib_bound_logger(make_app) -> None:
    make_app()

    assert isinstance(newlog.get_system_logger().bind(), structlog.stdlib.BoundLogger)


def test_levels_are_read_and_set_on_the_stdlib_logger_of_the_same_name(make_app, system_logger: logging.Logger) -> None:
    make_app()
    logger = newlog.get_system_logger()
    logging.getLogger().setLevel(logging.INFO)

    assert logger.name == "system"
    assert (logger.isEnabledFor(logging.DEBUG), logger.getEffectiveLevel()) == (False, logging.INFO)
    logger.setLevel(logging.DEBUG)
    assert (logger.isEnabledFor(logging.DEBUG), logger.getEffectiveLevel()) == (True, logging.DEBUG)
    assert system_logger.level == logging.DEBUG
    logger.setLevel(logging.NOTSET)
    assert logger.getEffectiveLevel() == logging.INFO


def test_log_with_a_level_number_and_printf_arguments_is_stored_formatted(make_app) -> None:
    app = make_app()
    logger = newlog.get_logger("timing")

    logger.log(logging.INFO, "Route %s took %.1f ms", "health", 12.345, module="timing")
    logger.log(logging.WARNING, "%(rooms)d rooms for %(user)s", {"rooms": 3, "user": "anna"})
    logger.info("%d%% done", 50)

    rows = stored_rows(app)
    assert [(row["level"], row["module"], row["message"]) for row in rows] == [
        ("INFO", "timing", "Route health took 12.3 ms"),
        ("WARNING", "timing", "3 rooms for anna"),
        ("INFO", "timing", "50% done"),
    ]
    assert all("positional_args" not in row["context"] for row in rows)


def test_printf_arguments_that_do_not_fit_never_break_the_caller(make_app) -> None:
    app = make_app()

    newlog.get_api_logger().info("%d rooms", "many")
    newlog.get_api_logger().info("no placeholder", 1)

    rows = stored_rows(app)
    assert [row["message"] for row in rows] == ["%d rooms", "no placeholder"]
    assert [row["context"]["positional_args"] for row in rows] == [["many"], [1]]


def test_exception_stores_the_handled_traceback_at_error(make_app, database_url: str) -> None:
    app = make_app(database_url)
    logger = newlog.get_system_logger()

    try:
        {}["room"]
    except KeyError:
        logger.exception("Lookup in %s failed", "bookings", module="audit")

    [row] = stored_rows(app)
    assert (row["level"], row["module"], row["message"]) == ("ERROR", "audit", "Lookup in bookings failed")
    assert "KeyError: 'room'" in row["traceback"]


def test_bind_new_and_unbind_keep_their_structlog_meaning(make_app) -> None:
    app = make_app()
    base = newlog.get_api_logger()

    bound = base.bind(order=7, tenant="acme")
    bound.info("bound")
    bound.unbind("tenant").info("unbound")
    bound.new(fresh=True).info("new")
    base.info("base")

    contexts = {row["message"]: row["context"] for row in stored_rows(app)}
    assert (contexts["bound"]["order"], contexts["bound"]["tenant"]) == (7, "acme")
    assert contexts["unbound"]["order"] == 7 and "tenant" not in contexts["unbound"]
    assert contexts["new"]["fresh"] is True and "order" not in contexts["new"]
    assert "order" not in contexts["base"]


def test_the_stdlib_level_does_not_decide_what_is_stored(make_app, system_logger: logging.Logger) -> None:
    app = make_app()
    system_logger.setLevel(logging.ERROR)

    newlog.get_system_logger().info("stored anyway")
    newlog.get_system_logger().debug("debug is off")

    assert [row["message"] for row in stored_rows(app)] == ["stored anyway"]
