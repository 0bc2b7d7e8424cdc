"""The arbitrator's desk over HTTP: pages for arbitrators and a versioned API for the case system.

Needs the ``web`` extra (FastAPI, uvicorn, python-multipart, argon2-cffi, chinese-calendar):
``pip install -e '.[web]'``; PostgreSQL also the ``postgres`` extra (psycopg). ``create_app(
program, db, token=...)`` builds the ASGI application over a SQLite file or a ``postgresql://``
URL; ``adjudicate serve`` runs it with uvicorn, ``adjudicate users`` manages its accounts.

Modules: app (the application, errors as JSON), middleware (body limit, who is asking, origin),
api and pages (routes), desk (what both call), store, db, migrations, audit (the database),
accounts (users, sessions, tokens), amounts (what a ruling may award), deadlines (working days),
schemas (OpenAPI).
"""

from engine.web.app import create_app

__all__ = ["create_app"]
