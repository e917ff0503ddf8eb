"""Serves GraphiQL without a CDN: the page, and the vendored files it loads from the app."""

from __future__ import annotations

import functools
import html
import json
from dataclasses import dataclass
from pathlib import Path
from string import Template
from typing import Final

from starlette.staticfiles import StaticFiles

STATIC_DIR: Final = Path(__file__).parent / "static" / "graphiql"
STATIC_PREFIX: Final = "/graphiql/static"
MANIFEST: Final = STATIC_DIR / "MANIFEST.json"

# (npm package, path inside it) of what the page loads, in load order; versions are in MANIFEST.
_STYLESHEETS: Final = (
    ("graphiql", "graphiql.min.css"),
    ("@graphiql/plugin-explorer", "dist/style.css"),
)
_SCRIPTS: Final = (
    ("react", "umd/react.production.min.js"),
    ("react-dom", "umd/react-dom.production.min.js"),
    ("js-cookie", "dist/js.cookie.min.js"),
    ("graphiql", "graphiql.min.js"),
    ("@graphiql/plugin-explorer", "dist/index.umd.js"),
)

DEFAULT_QUERY: Final = """\
# pinql GraphiQL: Ctrl-Enter runs, Ctrl-Space completes.
# To query as a user, paste into the Headers tab below:
# {"Authorization": "Bearer <token from ./scripts/serve>"}
{
  pins(first: 10) {
    edges {
      node {
        id
        title
        image {
          url
        }
        creator {
          username
        }
      }
    }
  }
}
"""

# Strawberry's graphiql.html, minus subscriptions, loading everything from STATIC_PREFIX.
_PAGE: Final = Template("""\
<!doctype html>
<html>
  <head>
    <meta charset="utf-8" />
    <title>pinql GraphiQL</title>
    <link rel="icon" href="data:," />
    <style>
      body {
        height: 100%;
        margin: 0;
        width: 100%;
        overflow: hidden;
      }

      #graphiql {
        height: 100vh;
        display: flex;
      }

      .docExplorerHide {
        display: none;
      }

      .doc-explorer-contents {
        overflow-y: hidden !important;
      }

      .docExplorerWrap {
        width: unset !important;
        min-width: unset !important;
      }

      .graphiql-explorer-actions select {
        margin-left: 4px;
      }
    </style>
$stylesheets
  </head>

  <body>
    <div id="graphiql" class="graphiql-container">Loading...</div>
$scripts
    <script>
      const ENDPOINT = $endpoint;
      const DEFAULT_QUERY = $default_query;

      // URL parameters (q, variables, headers) let a query be shared as a link.
      const parameters = {};

      for (const entry of window.location.search.slice(1).split("&")) {
        const eq = entry.indexOf("=");
        if (eq >= 0) {
          parameters[decodeURIComponent(entry.slice(0, eq))] =
            decodeURIComponent(entry.slice(eq + 1));
        }
      }

      function updateURL(data) {
        Object.assign(parameters, data);

        const newSearch =
          "?" +
          Object.keys(parameters)
            .filter(function (key) {
              return Boolean(parameters[key]);
            })
            .map(function (key) {
              return (
                encodeURIComponent(key) +
                "=" +
                encodeURIComponent(parameters[key])
              );
            })
            .join("&");
        history.replaceState(null, null, newSearch);
      }

      const defaultHeaders = {};
      const csrfToken = Cookies.get("csrftoken");

      if (csrfToken) {
        defaultHeaders["x-csrftoken"] = csrfToken;
      }

      const fetcher = GraphiQL.createFetcher({
        url: ENDPOINT,
        headers: defaultHeaders,
      });

      function GraphiQLWithExplorer() {
        const [query, setQuery] = React.useState(
          parameters.q || DEFAULT_QUERY,
        );
        const [variables, setVariables] = React.useState(
          parameters.variables,
        );
        const [headers, setHeaders] = React.useState(parameters.headers);

        function onEditQuery(newQuery) {
          setQuery(newQuery);
          updateURL({ q: newQuery });
        }

        function onEditVariables(newVariables) {
          setVariables(newVariables);
          updateURL({ variables: newVariables });
        }

        function onEditHeaders(newHeaders) {
          setHeaders(newHeaders);
        }

        const explorerPlugin = GraphiQLPluginExplorer.explorerPlugin();

        return React.createElement(GraphiQL, {
          fetcher: fetcher,
          defaultEditorToolsVisibility: true,
          plugins: [explorerPlugin],
          query: query,
          variables: variables,
          headers: headers,
          onEditQuery: onEditQuery,
          onEditVariables: onEditVariables,
          onEditHeaders: onEditHeaders,
          inputValueDeprecation: true,
          isHeadersEditorEnabled: true,
          shouldPersistHeaders: true,
        });
      }

      const root = ReactDOM.createRoot(document.getElementById("graphiql"));
      root.render(React.createElement(GraphiQLWithExplorer));
    </script>
  </body>
</html>
""")


@dataclass(frozen=True)
class VendoredFile:
    """One MANIFEST.json entry: a file as vendored from its npm package."""

    file: str  # relative to STATIC_DIR
    package: str
    version: str
    path: str  # inside the npm package
    integrity: str  # of the npm tarball
    sha256: str  # of the file, hex
    sri: str  # of the file, "sha384-<base64>"

    @property
    def url(self) -> str:
        """Where the app serves this file."""
        return f"{STATIC_PREFIX}/{self.file}"


def read_manifest() -> list[VendoredFile]:
    """The vendored files MANIFEST.json lists, in the order scripts/vendor-graphiql wrote them."""
    entries = json.loads(MANIFEST.read_text(encoding="utf-8"))["files"]
    return [VendoredFile(**{k: str(v) for k, v in entry.items()}) for entry in entries]


@functools.cache
def graphiql_html(endpoint: str = "/graphql") -> str:
    """The GraphiQL page, querying `endpoint`; built once per endpoint."""
    by_source = {(f.package, f.path): f for f in read_manifest()}

    def vendored(package: str, path: str) -> VendoredFile:
        try:
            return by_source[package, path]
        except KeyError:
            raise LookupError(
                f"{MANIFEST} has no {path} of {package}; run scripts/vendor-graphiql"
            ) from None

    stylesheets = "\n".join(
        f'    <link rel="stylesheet" href="{html.escape(f.url)}" integrity="{f.sri}" />'
        for f in (vendored(*source) for source in _STYLESHEETS)
    )
    scripts = "\n".join(
        f'    <script src="{html.escape(f.url)}" integrity="{f.sri}"></script>'
        for f in (vendored(*source) for source in _SCRIPTS)
    )
    return _PAGE.substitute(
        stylesheets=stylesheets,
        scripts=scripts,
        endpoint=_js_string(endpoint),
        default_query=_js_string(DEFAULT_QUERY),
    )


def graphiql_static_files() -> StaticFiles:
    """The ASGI app serving STATIC_DIR; mount it at STATIC_PREFIX."""
    return StaticFiles(directory=STATIC_DIR)


def _js_string(value: str) -> str:
    """`value` as a JavaScript string literal that cannot close the <script> around it."""
    return json.dumps(value).replace("<", "\\u003c")
