"""/docs (Swagger UI) and /redoc (ReDoc) from files in the package: no outside fetch, since the
isolated extranet reaches no CDN. The files, their versions, licences and checksums:
docs_assets/README.md. A Content-Security-Policy on both pages lets the browser load nothing
from anywhere but this server. `ApiSettings(docs=False)` (`serve --no-docs`) switches both off.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI, HTTPException, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse

ASSETS = Path(__file__).parent / "docs_assets"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "redoc.standalone.js": "text/javascript", "favicon-32x32.png": "image/png"}
# ReDoc runs its search in a worker made from a blob: URL; both UIs set inline styles.
CSP = ("default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self' data:; font-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
ASSET_PATH = "/docs/assets"


def install_docs(app: FastAPI, *, enabled: bool = True) -> None:
    """Add /docs, /redoc and their assets to `app` (created with docs_url=None, redoc_url=None)."""
    if not enabled:
        return
    openapi = app.openapi_url or "/openapi.json"

    def page(html: HTMLResponse) -> HTMLResponse:
        return HTMLResponse(html.body, headers={"Content-Security-Policy": CSP, "Cache-Control": "no-cache"})

    @app.get("/docs", include_in_schema=False)
    async def swagger_ui(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return page(get_swagger_ui_html(
            openapi_url=root + openapi, title=f"{app.title} - Swagger UI",
            swagger_js_url=f"{root}{ASSET_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{root}{ASSET_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{root}{ASSET_PATH}/favicon-32x32.png",
            swagger_ui_parameters={"validatorUrl": None}))  # no badge fetched from validator.swagger.io

    @app.get("/redoc", include_in_schema=False)
    async def redoc(request: Request) -> HTMLResponse:
        root = request.scope.get("root_path", "")
        return page(get_redoc_html(
            openapi_url=root + openapi, title=f"{app.title} - ReDoc",
            redoc_js_url=f"{root}{ASSET_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{root}{ASSET_PATH}/favicon-32x32.png", with_google_fonts=False))

    @app.get(ASSET_PATH + "/{name}", include_in_schema=False)
    async def asset(name: str) -> FileResponse:
        if name not in ASSET_TYPES:  # only the listed files: no path outside the directory
            raise HTTPException(404, "no such documentation asset")
        return FileResponse(ASSETS / name, media_type=ASSET_TYPES[name],
                            headers={"Cache-Control": "public, max-age=86400"})
