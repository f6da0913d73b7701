"""WSGI entry point: ``gunicorn wsgi:app`` or ``flask --app wsgi run`` from this folder."""

from app import create_app

app = create_app()
