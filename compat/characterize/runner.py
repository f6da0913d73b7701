"""One run of the kit: load the app, then record start-up, the legacy-API program and the scenario into a document."""

from __future__ import annotations

import importlib
import warnings
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from compat.characterize.driver import Driver
from compat.characterize.errors import KitError
from compat.characterize.guards import CSRF_OFF, HANDLER, RequestWatch, csrf_protections, resolve_login
from compat.characterize.loading import DATABASE_KEY, load_app, one_line
from compat.characterize.normalize import mask
from compat.characterize.places import ENDPOINT, add_program_route, run_in_place
from compat.characterize.program import PLACES, AdaptedApi, Variant, action, select_actions
from compat.characterize.recorder import LegacyState, LogTable, Recorder, capture, flush_pipeline, max_id_before_loading
from compat.characterize.scenario import Scenario, Step, starter
from compat.mapping import LEGACY_MODULE


@dataclass
class RunSettings:
    """What one run does. ``compare`` fills ``actions``, ``variant`` and ``steps`` from the before-record."""

    app: str
    module: str = LEGACY_MODULE
    scenario: Scenario | None = None
    starter: bool = True
    login: str | None = None
    user: str | None = None
    skip: list[str] = field(default_factory=list)
    program: bool = True
    actions: list[str] | None = None
    places: list[str] = field(default_factory=lambda: list(PLACES))
    variant: dict[str, dict[str, bool]] | None = None
    steps: list[Step] | None = None
    pins: dict[str, Any] = field(default_factory=dict)
    database: str | None = None
    create_tables: bool = False
    old_path_may_be_gone: bool = False


@dataclass
class Run:
    """The outcome of a run: the document, and the problems that make a record unusable (exit 2)."""

    document: dict[str, Any]
    problems: list[str]


@dataclass
class _Loaded:
    """The app as the kit loaded it: the old path's module (None: gone, ``gone`` says why) and the log table."""

    app: Any
    api: Any
    gone: str | None
    ignored: dict[str, Any]
    table: LogTable
    output: dict[str, Any]


def record(settings: RunSettings) -> Run:
    """Load the app and record everything ``settings`` asks for; raise :class:`KitError` when the kit cannot go on."""
    loaded = _load(settings)
    app, api = loaded.app, loaded.api
    variant = Variant(settings.variant) if settings.variant is not None else Variant.of(api) if api is not None else Variant()
    adapted = AdaptedApi(api, variant) if api is not None else None
    watch = RequestWatch(app)
    if adapted is not None:
        add_program_route(app, adapted)
    login_spec = settings.login or (settings.scenario.login if settings.scenario else None)
    user = settings.user or (settings.scenario.user if settings.scenario else None)
    login = resolve_login(login_spec)
    steps = settings.steps if settings.steps is not None else _steps(settings, app, login_spec, user)
    recorder = Recorder(loaded.table, LegacyState(api))
    driver = Driver(app, recorder, watch, login, user)

    recorder.step("startup", "startup", "startup", lambda: {"printed_events": loaded.output["printed"], "warnings": loaded.output["warnings"]})
    actions, skipped = _actions(settings, api)
    if adapted is not None:
        _record_program(recorder, driver, adapted, actions, settings.places)
    for step in steps:
        driver.run(step)
    flush_pipeline()

    document = recorder.document(
        app_spec=settings.app,
        legacy_module=settings.module,
        served_by=getattr(getattr(api, "__spec__", None), "name", None) if api is not None else None,
        variant=variant.keywords,
        actions=actions if adapted is not None or settings.actions is None else settings.actions,
        skipped=skipped,
        places=settings.places,
        program=settings.program,
        scenario=Scenario(tuple(steps), login_spec, user, False, settings.scenario.source if settings.scenario else "starter").as_json(),
        settings={
            "pins": {key: _safe_setting(key, value) for key, value in settings.pins.items()},
            "database": _safe_url(settings.database) if settings.database else None,
            "create_tables": settings.create_tables,
            "rows_before": loaded.table.last_id_at_start,
        },
        guards={"csrf_off": csrf_protections(app), "config_writes_ignored": {key: mask(value) for key, value in loaded.ignored.items()}},
        not_run={"program": loaded.gone} if loaded.gone and settings.program else {},
        problems=driver.problems,
    )
    return Run(document, driver.problems)


def _load(settings: RunSettings) -> _Loaded:
    """Load the app with the pinned settings, import the old path, and find the log table (rows new since loading)."""
    table_guess = str(settings.pins.get("LOG_TABLE", "unified_logs"))
    engine_options = settings.pins.get("SQLALCHEMY_ENGINE_OPTIONS")
    since = None
    if settings.database:
        since = max_id_before_loading(settings.database, table_guess, engine_options if isinstance(engine_options, dict) else None)
    with capture() as output:
        app, ignored = load_app(settings.app, {**CSRF_OFF, **settings.pins}, settings.database)
        api, gone = _import_old_path(settings)
        if settings.create_tables:
            _create_tables(app)
        flush_pipeline()
    table = LogTable(app, since=since if table_guess == app.config.get("LOG_TABLE", "unified_logs") else None)
    return _Loaded(app, api, gone, ignored, table, output)


def _record_program(recorder: Recorder, driver: Driver, api: AdaptedApi, actions: list[str], places: list[str]) -> None:
    """Record every action in every place it may run in, place by place; the kit's own route must reach its view."""
    for place in places:
        for name in actions:
            act = action(name)
            if place not in act.places:
                continue
            step = recorder.step(
                f"program/{place}/{name}",
                "program",
                place,
                lambda act=act, place=place: run_in_place(place, driver.app, api, act, driver.client(None), driver.watch),
            )
            if step.get("answered_by", HANDLER) != HANDLER:
                driver.problems.append(f"{step['name']}: the kit's own route was answered by {step['answered_by']}: {step['detail']['answer']}")


def _import_old_path(settings: RunSettings) -> tuple[Any, str | None]:
    """Return (the module at the old path, None) or (None, why it is gone)."""
    if not settings.program:
        return None, None
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("always")
            return importlib.import_module(settings.module), None
    except Exception as exc:  # noqa: BLE001 - an import error of the app's code is reported, not raised
        reason = f"the old path {settings.module} does not import any more ({one_line(exc)})"
        if settings.old_path_may_be_gone:
            return None, reason
        raise KitError(
            f"cannot import the legacy module path {settings.module!r}: {one_line(exc)}; pass --module with the dotted "
            "path your code imports it from, or --no-program to record the scenario only"
        ) from None


def _create_tables(app: Any) -> None:
    db = app.extensions.get("sqlalchemy")
    if db is None:
        raise KitError("--create-tables: the app has no flask-sqlalchemy extension")
    with app.app_context():
        db.create_all()


def _actions(settings: RunSettings, api: Any) -> tuple[list[str], list[str]]:
    if api is None:
        return [], []
    if settings.actions is not None:
        return list(settings.actions), []
    try:
        return select_actions(api, settings.skip)
    except ValueError as exc:
        raise KitError(str(exc)) from None


def _steps(settings: RunSettings, app: Any, login: str | None, user: str | None) -> list[Step]:
    steps = list(settings.scenario.steps) if settings.scenario else []
    generate = settings.scenario.starter if settings.scenario else settings.starter
    if generate:
        if login and not user:
            raise KitError("--login needs --user (the user the starter's logged-in steps run as)")
        steps += starter(app, user if login else None, skip_endpoints=frozenset({ENDPOINT}))
    if not steps and not settings.program:
        raise KitError("nothing to record: --no-program and no scenario step (give --scenario, or drop --no-starter)")
    return steps


def _safe_url(url: str) -> str:
    return sa.engine.make_url(url).render_as_string(hide_password=True)


def _safe_setting(key: str, value: Any) -> Any:
    if key == DATABASE_KEY and isinstance(value, str):
        return _safe_url(value)
    return value


__all__ = ["Run", "RunSettings", "record"]
