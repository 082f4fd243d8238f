"""Sphinx extension: include each script only once per page.

sphinx-thebe registers its inline configuration (``const THEBE_JS_URL = ...``) each time Sphinx
reads documents, and Jupyter Book reads them in more than one pass, so every page declared the
same constants twice and the browser threw "Identifier 'THEBE_JS_URL' has already been declared"
on every page. This drops repeated scripts (same file, same inline body) from each page.
"""

from __future__ import annotations

from typing import Any


def _key(script: Any) -> tuple[str, str]:
    attributes = getattr(script, "attributes", {}) or {}
    # an inline script's file name is None or "", depending on who registered it
    return (str(getattr(script, "filename", script) or ""), str(attributes.get("body", "")))


def drop_repeated_scripts(app, pagename, templatename, context, doctree) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    seen: set[tuple[str, str]] = set()
    unique = []
    for script in scripts:
        key = _key(script)
        if key not in seen:
            seen.add(key)
            unique.append(script)
    # in place: the list is the builder's, and handlers that run later (MathJax's) append to it
    scripts[:] = unique


def setup(app) -> dict[str, Any]:
    # early: html-page-context stops at the first handler that returns a template name
    app.connect("html-page-context", drop_repeated_scripts, priority=100)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
