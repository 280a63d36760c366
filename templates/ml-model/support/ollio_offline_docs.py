"""Makes a FastAPI app previewable in Ollio, whatever its code says.

- Its interactive docs (/docs) are served from the sandbox, not a CDN:
  FastAPI's docs page loads Swagger UI from cdn.jsdelivr.net, which a sandbox
  cannot reach, so the page is pointed at the copy of Swagger UI 5 that the
  `fastapi-offline` package ships, mounted under /_ollio/swagger.
- It answers cross-origin requests: Ollio's preview is a sandboxed frame whose
  origin is `null`, so the docs page's own request for /openapi.json is a
  cross-origin one.

Loaded at start-up by `ollio_offline_docs.pth`, this waits until
`fastapi.applications` is imported, so programs that never use FastAPI pay
nothing.
"""

import functools
import importlib.abc
import importlib.util
import sys

PREFIX = "/_ollio/swagger"
MODULE = "fastapi.applications"


def _patch(applications):
    import os

    from starlette.middleware.cors import CORSMiddleware
    from starlette.staticfiles import StaticFiles

    # Found, not imported: it imports fastapi, which is still being imported.
    package = importlib.util.find_spec("fastapi_offline")
    static = os.path.join(package.submodule_search_locations[0], "static")
    applications.get_swagger_ui_html = functools.partial(
        applications.get_swagger_ui_html,
        swagger_js_url=f"{PREFIX}/swagger-ui-bundle.js",
        swagger_css_url=f"{PREFIX}/swagger-ui.css",
        swagger_favicon_url="data:,",
    )
    setup = applications.FastAPI.setup

    def setup_with_local_docs(self):
        setup(self)
        self.add_middleware(CORSMiddleware, allow_origins=["*"], allow_methods=["*"], allow_headers=["*"])
        if self.openapi_url and self.docs_url:
            files = StaticFiles(directory=static)
            self.mount(PREFIX, files, name="ollio-swagger-ui")

    applications.FastAPI.setup = setup_with_local_docs


class _AfterImport(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != MODULE:
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is None or spec.loader is None:
            return spec
        run = spec.loader.exec_module

        def exec_module(module):
            run(module)
            try:
                _patch(module)
            except Exception as error:  # the app must still start
                print(f"ollio: docs stay on the CDN: {error}", file=sys.stderr)

        spec.loader.exec_module = exec_module
        return spec


if MODULE not in sys.modules:
    sys.meta_path.insert(0, _AfterImport())
