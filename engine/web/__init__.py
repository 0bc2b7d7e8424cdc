"""The arbitrator's desk over HTTP: pages for arbitrators and a versioned API for the case system.

Needs the ``web`` extra (FastAPI, uvicorn, python-multipart): ``pip install -e '.[web]'``.
``create_app(program, db_path, token=...)`` builds the ASGI application; ``adjudicate serve``
runs it with uvicorn.
"""

from engine.web.app import create_app

__all__ = ["create_app"]
