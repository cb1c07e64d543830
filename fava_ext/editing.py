"""Editing from the pages: labels and notes (BeanflexEdit), and a guard on Fava's own editor.

Labels and notes are the user's files (labels.yaml, notes/); the forms on the Labels page post here and the
workspace functions in `beanflex.edits` write them as a hand-editor would (one line changed, under the ledger
lock, optionally committed). Safe by default:
- POST only, with the page's CSRF token (a per-process secret compared in constant time), forms limited to
  MAX_FORM_BYTES, texts to `edits.MAX_TEXT` characters;
- refused under `beanflex serve --read-only` (Fava itself refuses every non-GET request then, with 401; the pages
  also hide the forms), and nothing is written outside the workspace (file names come from the workspace);
- what a user typed is shown as text (Jinja escapes it; notes go through `note_html`).

Fava's editor writes any source file of the ledger, including `ledger/generated/` (rewritten by every import) and
`ledger/raw/` (IBKR's bytes). `before_request` refuses such a write with 403 and says to use manual.beancount.
"""

from __future__ import annotations

import hmac
import json
import os
import secrets
from pathlib import Path
from urllib.parse import urlencode, urlsplit

from flask import Response, abort, redirect, request

from fava.ext import extension_endpoint

from beanflex.reports import label_edits

from . import pages as fava_pages

#: Larger edit forms are refused before they are read (a note is at most edits.MAX_TEXT characters).
MAX_FORM_BYTES = 256 * 1024
#: Set by `beanflex serve --read-only`: the pages hide their forms, and the endpoints refuse (Fava does too).
READ_ONLY_ENV = "BEANFLEX_READ_ONLY"
#: Fava's JSON API endpoints that write a source file, and how each names it.
SOURCE_WRITES = ("json_api.put_source", "json_api.put_source_slice", "json_api.delete_source_slice")
_TOKEN = secrets.token_urlsafe(32)


def read_only() -> bool:
    return os.environ.get(READ_ONLY_ENV, "") not in ("", "0")


class Guarded(fava_pages.Page):
    """What every editing endpoint checks first: read-only, CSRF token, size; and where it sends the user after."""

    def csrf_token(self) -> str:
        return _TOKEN

    @staticmethod
    def read_only() -> bool:
        return read_only()

    def refuse_unless_allowed(self) -> None:
        if read_only():
            abort(403, "this beanflex is read-only (serve --read-only): no edits")
        if (request.content_length or 0) > self.max_bytes():
            abort(413, "the form is too large")
        token = request.form.get("csrf", "")
        if not hmac.compare_digest(token.encode(), _TOKEN.encode()):
            abort(403, "the form's security token is missing or stale; reload the page and try again")

    def max_bytes(self) -> int:
        return MAX_FORM_BYTES

    def workspace(self):
        from beanflex.edits import workspace_for

        return workspace_for(self.ledger.beancount_file_path)

    @staticmethod
    def back(**params: str) -> Response:
        """303 to the form's `next` page (same site only), with `edited=`/`edit_error=` for its banner."""
        target = request.form.get("next") or "/"
        parts = urlsplit(target)
        if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
            target = "/"
        joiner = "&" if parts.query else "?"
        return redirect(target + joiner + urlencode(params), code=303)


class BeanflexEdit(Guarded):
    """The endpoints behind the Labels page's forms (no page of its own: no sidebar entry)."""

    def before_request(self) -> None:
        """Refuse Fava's editor writing a generated or raw file (403 with what to do instead)."""
        if request.method == "GET" or request.endpoint not in SOURCE_WRITES:
            return
        target = self._source_target()
        if target is None:
            return
        ledger_dir = self.ledger_dir.resolve()
        for folder in ("generated", "raw"):
            if (ledger_dir / folder) in target.parents:
                message = (f"{target.name} is under ledger/{folder}/, which beanflex rewrites on every import "
                           "(raw/ holds IBKR's bytes): edits there would be lost or would break the archive. "
                           "Copy the entry into manual.beancount (keep its flex_id) and correct it there.")
                abort(Response(json.dumps({"error": message}), 403, mimetype="application/json"))

    def _source_target(self) -> Path | None:
        if request.endpoint == "json_api.put_source":
            path = (request.get_json(silent=True) or {}).get("file_path")
            return Path(path).resolve() if path else None
        entry_hash = (request.get_json(silent=True) or {}).get("entry_hash") or request.args.get("entry_hash")
        if not entry_hash:
            return None
        try:
            entry = self.ledger.get_entry(entry_hash)
        except Exception:  # noqa: BLE001 - Fava answers an unknown hash itself
            return None
        filename = (getattr(entry, "meta", None) or {}).get("filename")
        return Path(filename).resolve() if filename else None

    def _done(self, edited) -> Response:
        self.ledger.load_file()  # the pages show the edit at once (labels.yaml and notes/ are plugin inputs)
        commit = f" (committed {edited.commit[:10]})" if edited.commit else ""
        return self.back(edited=f"{edited.summary}{commit}")

    @extension_endpoint("labels", methods=["POST"])
    def labels_edit(self) -> Response:
        """`action=add|remove|create`, `label`, `symbol`, `conid` (and `description` for create)."""
        self.refuse_unless_allowed()
        import beanflex.edits as edits
        from beanflex.edits import EditRefused

        form = {k: (request.form.get(k) or "").strip() for k in ("action", "label", "symbol", "conid",
                                                                 "description", "new_label")}
        ws = self.workspace()
        try:
            if form["action"] == "add":
                if label_edits.instrument(self.ledger.all_entries, form["symbol"]) is None:
                    raise EditRefused(f"no instrument {form['symbol']!r} in the ledger")
                label = form["new_label"] or form["label"]
                if form["new_label"] and form["new_label"] not in self._label_names():
                    edits.create_label(ws, label)
                edited = edits.add_label(ws, label, form["symbol"])
            elif form["action"] == "remove":
                found = label_edits.instrument(self.ledger.all_entries, form["symbol"], form["conid"] or None)
                if found is None:
                    raise EditRefused(f"no instrument {form['symbol']} (conid {form['conid']}) in the ledger")
                edited = edits.remove_label(ws, form["label"], found)
            elif form["action"] == "create":
                edited = edits.create_label(ws, form["label"], form["description"])
            else:
                abort(400, "action must be add, remove or create")
        except (EditRefused, OSError) as exc:
            return self.back(edit_error=str(exc))
        return self._done(edited)

    def _label_names(self) -> list[str]:
        return [label.name for label in self.labels_config().labels] if self.labels_config() else []

    @extension_endpoint("note", methods=["POST"])
    def note_edit(self) -> Response:
        """`kind=instrument` (`symbol`, `conid`) or `kind=event` (`flex_id`), and `text` (the whole note)."""
        self.refuse_unless_allowed()
        import beanflex.edits as edits
        from beanflex.edits import EditRefused

        form = {k: request.form.get(k) or "" for k in ("kind", "symbol", "conid", "flex_id", "text")}
        ws = self.workspace()
        try:
            if form["kind"] == "event":
                flex_id = form["flex_id"].strip()
                if not label_edits.has_flex_id(self.ledger.all_entries, flex_id):
                    raise EditRefused(f"no entry with flex_id {flex_id!r} in the ledger")
                edited = edits.write_event_note(ws, form["flex_id"].strip(), form["text"])
            elif form["kind"] == "instrument" and form["symbol"].strip():
                edited = edits.write_instrument_note(ws, form["symbol"].strip(), form["conid"].strip() or None,
                                                     form["text"])
            else:
                abort(400, "kind must be instrument (with symbol) or event (with flex_id)")
        except (EditRefused, OSError) as exc:
            return self.back(edit_error=str(exc))
        return self._done(edited)
