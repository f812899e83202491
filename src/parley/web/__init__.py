"""The web interface for delegations: server-rendered pages; every move is signed in the browser.

``mount(app, settings)`` adds the pages and their static files to the API's FastAPI app.
"""

from __future__ import annotations

from parley.web.mount import mount
from parley.web.site import router

__all__ = ["mount", "router"]
