"""The app's guards: CSRF turned off for the kit's client, logging the client in, and who answered a request.

A request step characterizes nothing when a guard answers it instead of its view (a CSRF
400, login_required's 401, a redirect to the login view, a before_request hook's 403):
before and after look alike. :class:`RequestWatch` sees whether the endpoint's own view
function (the innermost one, under its decorators) started, and if not, names who answered.
"""

from __future__ import annotations

import contextlib
import functools
import importlib
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import CodeType, FrameType
from typing import Any
from urllib.parse import urlsplit

from flask import Flask, request, request_started
from werkzeug.exceptions import HTTPException

from compat.characterize.errors import KitError

CSRF_OFF: dict[str, Any] = {
    "WTF_CSRF_ENABLED": False,  # Flask-WTF: CSRFProtect and FlaskForm
    "CSRF_ENABLED": False,  # Flask-WTF before 0.9
    "CSRF_DISABLE": True,  # Flask-SeaSurf
}
"""Settings pinned in the app's config (from its creation on) so that the kit's client passes CSRF checks."""

GUARDS = ("csrf", "login", "routing", "guard", "error")
"""Who can answer a request instead of its view: see :class:`Answer`."""

HANDLER = "handler"


def csrf_protections(app: Flask) -> list[str]:
    """Return what the kit turned off, naming each CSRF protection found on ``app``."""
    found = []
    if "csrf" in app.extensions:
        found.append(f"Flask-WTF CSRFProtect (app.extensions['csrf']): WTF_CSRF_ENABLED={app.config.get('WTF_CSRF_ENABLED')}")
    if any(type(hook).__module__.startswith("flask_seasurf") for hook in _before_request_owners(app)):
        found.append(f"Flask-SeaSurf: CSRF_DISABLE={app.config.get('CSRF_DISABLE')}")
    return found


def _before_request_owners(app: Flask) -> Iterator[Any]:
    for hooks in app.before_request_funcs.values():
        for hook in hooks:
            yield getattr(hook, "__self__", hook)


def exempt(app: Flask, view: Callable[..., Any]) -> None:
    """Exempt the kit's own ``view`` from a Flask-WTF CSRFProtect of ``app`` (if there is one)."""
    csrf = app.extensions.get("csrf")
    if csrf is not None and callable(getattr(csrf, "exempt", None)):
        csrf.exempt(view)


# -- logging the client in -----------------------------------------------------------------------

LoginHook = Callable[[Any, str], None]
"""``hook(client, user)``: log the Flask test ``client`` in as ``user`` (what ``user`` means is the hook's)."""

FLASK_LOGIN = "flask-login"


def flask_login_session(client: Any, user: str) -> None:
    """Log ``client`` in with flask-login: the session holds ``user`` as the user id, fresh, for this client.

    The app's ``user_loader`` must find a user with that id in the kit's database.
    """
    app = client.application
    manager = getattr(app, "login_manager", None)
    if manager is None:
        raise KitError(
            f"--login {FLASK_LOGIN}: the app {app.name!r} has no flask-login LoginManager (app.login_manager); "
            "give a hook instead: --login 'yourpkg.testing:login_as' (called as login_as(client, user))"
        )
    with client.session_transaction() as session:
        # flask-login's session protection compares "_id" with a hash of the client's address and agent
        with app.test_request_context(environ_base=dict(client.environ_base)):
            identifier = manager._session_identifier_generator()  # flask-login's hook for that hash
        session["_user_id"] = str(user)
        session["_fresh"] = True
        session["_id"] = identifier


def resolve_login(spec: str | None) -> LoginHook | None:
    """Return the login hook named by ``spec``: ``flask-login``, or ``package.module:function``."""
    if not spec:
        return None
    if spec == FLASK_LOGIN:
        return flask_login_session
    module_name, _, attribute = spec.partition(":")
    if not module_name or not attribute:
        raise KitError(f"--login {spec!r}: expected '{FLASK_LOGIN}' or 'package.module:function' (called as function(client, user))")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - the app's module: say what it raised
        raise KitError(f"--login {spec!r}: importing {module_name!r} failed: {type(exc).__name__}: {exc}") from None
    hook = getattr(module, attribute, None)
    if not callable(hook):
        raise KitError(f"--login {spec!r}: {module_name} has no function {attribute!r}")
    return hook


# -- who answered a request ----------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    """Who answered a request: ``by`` is ``handler`` (its view function ran) or a guard of :data:`GUARDS`.

    ``csrf``: a CSRF check; ``login``: flask-login's login_required / fresh_login_required or a
    redirect to the login view; ``routing``: no route (404, 405, a redirect to the canonical
    URL); ``guard``: a before_request hook or a decorator answered before the view function
    ran (or raised, answered 401/403); ``error``: another exception raised before the view
    function ran. ``detail`` says more.
    """

    by: str
    detail: str


def handler_codes(view: Any) -> frozenset[CodeType]:
    """Return the code objects whose start means the view's own code ran (under its decorators).

    Follows ``__wrapped__`` (functools.wraps) to the innermost function; a class-based view
    (``as_view``) counts its HTTP-method functions or its ``dispatch_request``.
    """
    seen: set[int] = set()
    func = view
    while func is not None and id(func) not in seen:
        seen.add(id(func))
        view_class = getattr(func, "view_class", None)
        if isinstance(view_class, type):
            return _class_view_codes(view_class)
        if isinstance(func, functools.partial):
            func = func.func
            continue
        inner = getattr(func, "__wrapped__", None)
        if inner is None:
            break
        func = inner
    code = getattr(func, "__code__", None) or getattr(getattr(func, "__func__", None), "__code__", None)
    if code is None and func is not None:
        code = getattr(getattr(type(func), "__call__", None), "__code__", None)
    return frozenset({code}) if isinstance(code, CodeType) else frozenset()


def _class_view_codes(view_class: type) -> frozenset[CodeType]:
    methods = [name.lower() for name in (getattr(view_class, "methods", None) or ())]
    codes: set[CodeType] = set()
    for name in methods:
        if callable(getattr(view_class, name, None)):
            codes |= handler_codes(getattr(view_class, name))
    if not codes:
        codes |= handler_codes(getattr(view_class, "dispatch_request", None))
    return frozenset(codes)


def _is_csrf(error: BaseException) -> bool:
    return type(error).__name__ == "CSRFError" or "CSRF" in str(getattr(error, "description", ""))


class RequestWatch:
    """Observes the requests the kit makes to ``app``: did the view function run, and if not, who answered.

    Installed once per app: it listens to Flask's ``request_started`` and flask-login's
    ``user_unauthorized`` / ``user_needs_refresh`` signals, and sees the exceptions the app
    handles (the app's ``handle_user_exception``, wrapped on the app object, behaves as before).
    """

    def __init__(self, app: Flask) -> None:
        self.app = app
        self._active = False
        self._reset()
        request_started.connect(self._started, app, weak=False)
        try:
            from flask_login import signals
        except ImportError:
            pass
        else:
            signals.user_unauthorized.connect(self._unauthorized, app, weak=False)
            signals.user_needs_refresh.connect(self._needs_refresh, app, weak=False)
        handle = app.handle_user_exception

        def handle_user_exception(error: Exception) -> Any:
            if self._active:
                self._exceptions.append(error)
            return handle(error)

        app.handle_user_exception = handle_user_exception  # type: ignore[method-assign]

    def _reset(self) -> None:
        self._started_request = False
        self._endpoint: str | None = None
        self._routing: BaseException | None = None
        self._targets: frozenset[CodeType] = frozenset()
        self._reached = False
        self._exceptions: list[BaseException] = []
        self._login_signal: str | None = None

    def _started(self, sender: Any, **extra: Any) -> None:
        if not self._active or self._started_request:
            return
        self._started_request = True
        rule = request.url_rule
        self._endpoint = rule.endpoint if rule is not None else None
        self._routing = request.routing_exception
        if self._endpoint is not None:
            self._targets = handler_codes(self.app.view_functions.get(self._endpoint))

    def _unauthorized(self, sender: Any, **extra: Any) -> None:
        if self._active:
            self._login_signal = "login_required (flask-login: the user is not logged in)"

    def _needs_refresh(self, sender: Any, **extra: Any) -> None:
        if self._active:
            self._login_signal = "fresh_login_required (flask-login: the login is not fresh)"

    def _profile(self, frame: FrameType, event: str, arg: Any) -> None:
        if not self._active:
            sys.setprofile(None)  # a thread started during a request keeps no profiler
            return
        if event == "call" and frame.f_code in self._targets:
            self._reached = True

    @contextlib.contextmanager
    def watching(self) -> Iterator[Callable[[Any], Answer]]:
        """Watch one request made in the block; yield a function returning the :class:`Answer` for its response."""
        self._reset()
        previous, previous_threads = sys.getprofile(), threading.getprofile()
        self._active = True
        sys.setprofile(self._profile)
        threading.setprofile(self._profile)  # async views run in a thread of their own
        try:
            yield self._answer
        finally:
            self._active = False
            sys.setprofile(previous)
            threading.setprofile(previous_threads)  # type: ignore[arg-type]

    def _answer(self, response: Any) -> Answer:
        status = response.status_code
        endpoint = self._endpoint
        if self._reached:
            return Answer(HANDLER, f"the view function of {endpoint} ran")
        if not self._started_request:
            return Answer("error", f"{status}: the request never started (a WSGI middleware answered)")
        if self._routing is not None:
            name = getattr(self._routing, "name", type(self._routing).__name__)
            return Answer("routing", f"{status} {name}: routing answered, no view of the app matches this method and path")
        csrf = next((error for error in self._exceptions if _is_csrf(error)), None)
        if csrf is not None:
            return Answer("csrf", f"{status} CSRF protection ({type(csrf).__name__}: {getattr(csrf, 'description', csrf)})")
        if self._login_signal is not None:
            return Answer("login", f"{status} {self._login_signal}")
        login_path = self._login_path()
        if status in (301, 302, 303, 307, 308) and login_path and urlsplit(response.headers.get("Location", "")).path == login_path:
            return Answer("login", f"{status} redirect to the login view {login_path}")
        if not self._targets:
            return Answer(HANDLER, f"{endpoint} (its view function cannot be observed: no Python code object)")
        error = next((e for e in self._exceptions if not isinstance(e, HTTPException)), None)
        if error is not None:
            kind = "guard" if status in (401, 403) else "error"  # a decorator raising the app's own access error is a guard
            return Answer(kind, f"{status}: {type(error).__name__}: {error} was raised before the view function of {endpoint} ran")
        http = next((e for e in self._exceptions if isinstance(e, HTTPException)), None)
        raised = f" ({type(http).__name__})" if http is not None else ""
        return Answer(
            "guard", f"{status}{raised}: a before_request hook or a decorator of {endpoint} answered before its view function ran"
        )

    def _login_path(self) -> str | None:
        view = getattr(getattr(self.app, "login_manager", None), "login_view", None)
        if not view:
            return None
        if str(view).startswith("/"):
            return str(view)
        try:
            return self.app.url_map.bind("localhost").build(str(view))
        except Exception:  # noqa: BLE001 - a login view that needs arguments: no redirect check
            return None
