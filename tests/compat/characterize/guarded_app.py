"""A small app behind every kind of guard, for the kit's guard checks (written to a temporary module per test).

``GUARDED_APP`` is the module's source: Flask-WTF CSRFProtect, flask-login with a login view,
a decorator and a before_request hook that answer 403, a class-based view, a view that aborts
by itself, and a custom CSRF check the kit cannot switch off (``STRICT_CSRF``). Its database
comes from ``GUARDED_APP_DATABASE``, not ``DATABASE_URL``.
"""

GUARDED_APP = '''
import functools
import os

from flask import Flask, abort, jsonify, request
from flask.views import MethodView
from flask_login import LoginManager, UserMixin, login_required
from flask_sqlalchemy import SQLAlchemy
from flask_wtf.csrf import CSRFError, CSRFProtect

db = SQLAlchemy()
login_manager = LoginManager()
csrf = CSRFProtect()


class UnifiedLog(db.Model):
    __tablename__ = "unified_logs"
    id = db.Column(db.Integer, primary_key=True)
    level = db.Column(db.String(10))
    module = db.Column(db.String(50))
    message = db.Column(db.Text)
    traceback = db.Column(db.Text)
    context = db.Column(db.JSON)


class User(UserMixin, db.Model):
    id = db.Column(db.Integer, primary_key=True)
    name = db.Column(db.String(50))


@login_manager.user_loader
def load_user(user_id):
    return db.session.get(User, int(user_id))


def admins_only(view):
    @functools.wraps(view)
    def wrapper(*args, **kwargs):
        if request.headers.get("X-Role") != "admin":
            return jsonify(error="admins only"), 403
        return view(*args, **kwargs)
    return wrapper


class Things(MethodView):
    def get(self):
        return jsonify(things=[])

    def post(self):
        return jsonify(created=True), 201


def create_app():
    app = Flask(__name__)
    app.config.update(
        SECRET_KEY="guarded",
        SQLALCHEMY_DATABASE_URI=os.environ.get("GUARDED_APP_DATABASE", "sqlite://"),
        STRICT_CSRF=os.environ.get("GUARDED_APP_STRICT_CSRF") == "1",
    )
    db.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "login"
    csrf.init_app(app)

    @app.before_request
    def internal_only():
        if request.path.startswith("/internal"):
            abort(403)
        if request.path.startswith("/crash-before"):
            raise RuntimeError("hook crashed")
        if app.config["STRICT_CSRF"] and request.method == "POST" and "X-Token" not in request.headers:
            raise CSRFError("The X-Token header is missing.")

    @app.get("/open")
    def open_page():
        return jsonify(page="open")

    @app.post("/submit")
    def submit():
        return jsonify(saved=request.get_json(silent=True)), 201

    @app.get("/private")
    @login_required
    def private():
        return jsonify(page="private")

    @app.get("/admin")
    @admins_only
    def admin():
        return jsonify(page="admin")

    @app.get("/internal/stats")
    def internal_stats():
        return jsonify(page="stats")

    @app.get("/crash-before")
    def crash_before():
        return jsonify(page="never")

    @app.get("/forbidden-by-view")
    def forbidden_by_view():
        abort(403)

    @app.get("/boom")
    def boom():
        raise ValueError("view failed")

    @app.get("/login")
    def login():
        return "<form>log in</form>"

    app.add_url_rule("/things", view_func=Things.as_view("things"))

    with app.app_context():
        db.create_all()
        if db.session.get(User, 1) is None:
            db.session.add(User(id=1, name="alice"))
            db.session.commit()
    return app
'''
