"""The arbitrator's desk over HTTP: pages for arbitrators and a versioned API for the case system.

Needs the ``web`` extra (FastAPI, uvicorn, python-multipart, argon2-cffi, chinese-calendar):
``pip install -e '.[web]'``; PostgreSQL also the ``postgres`` extra (psycopg). ``create_app(
program, db, token=...)`` builds the ASGI application over a SQLite file or a ``postgresql://``
URL; ``adjudicate serve`` runs it with uvicorn, ``adjudicate users`` manages its accounts.

Modules: app (the application, errors as JSON), middleware (body limit, who is asking, origin),
api, pages and evidence_routes (routes), desk (what they call), decision_form and corrections
(what a decision or a correction of a reading may be), bundles (bundles put on the desk),
evidence_view (a case's evidence as shown), store, records, evidence_store, db, migrations,
audit (the database), accounts (users, sessions, tokens), amounts (what a ruling may award),
deadlines (working days), textcheck (text people type), schemas (OpenAPI).
"""

from engine.web.app import create_app

__all__ = ["create_app"]
