"""The Upload page: drop or choose a Flex statement (XML or CSV) and import it, as `beanflex import FILE` does.

The POST runs `beanflex.upload.run_upload` (the CLI's `ingest.import_files` under the ledger lock: archive,
regenerate, then the check `sync` runs), reloads the ledger and shows what happened: the archived file, the new
trades and other entries, rows flagged `!`, drift warnings, Beancount errors and the reconciliation status, or
the error naming file, section, line and field. Fava's own Import page keeps working with the beangulp importer
(`beanflex.importers.flex.importer.FlexImporter`) for those who configure it.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict

from flask import Response, abort, request

from fava.ext import extension_endpoint

from . import pages as fava_pages
from .editing import Guarded

#: The last few results, by a random id in the page's URL (one user, one browser: a handful is plenty).
_RESULTS: dict[str, dict] = {}


class BeanflexUpload(Guarded):
    """Upload a statement; see the module docstring."""

    report_title = "Upload statement"

    def max_bytes(self) -> int:
        from beanflex.upload import MAX_UPLOAD_BYTES

        return MAX_UPLOAD_BYTES + 64 * 1024

    @fava_pages.shows_errors
    def page(self) -> dict:
        result = _RESULTS.get(request.args.get("result") or "")
        return {"result": result, "read_only": self.read_only(), "csrf": self.csrf_token(),
                "action": self.url(endpoint="upload"), "next": self.url(result=None)}

    @extension_endpoint("upload", methods=["POST"])
    def upload(self) -> Response:
        """multipart `statement` (the file) + `csrf`; answers 303 to the page with `?result=<id>`."""
        self.refuse_unless_allowed()
        from beanflex.upload import run_upload

        sent = request.files.get("statement")
        if sent is None or not sent.filename:
            abort(400, "choose a statement file (XML or CSV) to upload")
        result = run_upload(self.workspace(), sent.filename, sent.read())
        if result.error is None:
            self.ledger.load_file()
        key = secrets.token_urlsafe(8)
        _RESULTS[key] = {**asdict(result), "status": result.status}
        while len(_RESULTS) > 20:
            _RESULTS.pop(next(iter(_RESULTS)))
        return self.back(result=key)
