"""The page's own scripts and styles kept by the browser between visits.

Dash links every asset as ``/assets/<file>?m=<modified time>``: the address changes
whenever the file does, so a browser may keep what it fetched for good. Flask's default
(``no-cache``) had it ask again for each of the 30 files on every load, about 80 ms of
round trips before the page could draw. Files fetched without the stamp (the recorder's
worklet, loaded by the audio API) keep the default.
"""

from __future__ import annotations

from flask import Flask, Response, request

ASSETS = "/assets/"
FOR_GOOD = "public, max-age=31536000, immutable"


def install_static_cache(server: Flask) -> None:
    @server.after_request
    def keep_stamped_assets(response: Response) -> Response:
        if request.path.startswith(ASSETS) and "m" in request.args and response.status_code in (200, 304):
            response.headers["Cache-Control"] = FOR_GOOD
        return response
