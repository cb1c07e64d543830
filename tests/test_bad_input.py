"""Bad input: each file is a clear exit 1 naming the file, and nothing is half-written to raw/ or generated/.

Each file is tried at two levels: `archive.store` (the adapter refuses it before a byte is stored) and the real
`beanflex import FILE` process on a fresh `beanflex init` ledger, whose files are compared before and after.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from lxml import etree

from beanflex.cmd_init import create_skeleton
from beanflex.importers.flex import adapter, archive
from beanflex.importers.flex.errors import FlexParseError

BAD = Path(__file__).parent / "fixtures" / "bad-input"
BEANFLEX = str(Path(sys.executable).parent / "beanflex")

#: file -> what the message must say
CASES = {
    "empty.xml": "the file is empty",
    "html_page.xml": "this is an HTML page",
    "error_envelope.xml": "this is a Flex Web Service status reply (Status Warn, ErrorCode 1019",
    "truncated.xml": "not well-formed XML",
    "billion_laughs.xml": "declares a DTD or entities",
    "external_entity.xml": "declares a DTD or entities",
    "not_flex.xml": "root element is <OFX>, expected <FlexQueryResponse>",
}


def snapshot(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file() and p.name not in ("runs.log", ".beanflex.lock")}


@pytest.mark.parametrize("name", list(CASES))
def test_archive_refuses_and_stores_nothing(tmp_path, name):
    with pytest.raises(FlexParseError) as err:
        archive.store((BAD / name).read_bytes(), tmp_path, None, source=str(BAD / name))
    assert str(err.value).startswith(str(BAD / name))
    assert CASES[name] in str(err.value)
    assert not (tmp_path / "raw").exists()


def run_main(args: list[str], capsys) -> tuple[int, str]:
    """`beanflex ARGS` through the console entry point in this process (the subprocess start costs ~0.5 s)."""
    from beanflex.cli import main

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(sys, "argv", ["beanflex", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = exc.code
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def test_cli_import_of_each_bad_file_exits_1_naming_it_and_writes_nothing(tmp_path, capsys):
    create_skeleton(tmp_path)
    before = snapshot(tmp_path)
    for name, expected in CASES.items():
        code, output = run_main(["--ledger", str(tmp_path / "ledger" / "main.beancount"), "import",
                                 str(BAD / name)], capsys)
        assert code == 1, (name, output)
        assert f"Error: {BAD / name}" in output and expected in output, (name, output)
        assert "Traceback" not in output
        assert snapshot(tmp_path) == before, name
    assert not (tmp_path / "ledger" / "raw").exists()


def test_cli_import_as_a_real_process(tmp_path):
    create_skeleton(tmp_path)
    before = snapshot(tmp_path)
    proc = subprocess.run([BEANFLEX, "--ledger", str(tmp_path / "ledger" / "main.beancount"), "import",
                           str(BAD / "billion_laughs.xml")], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.startswith(f"Error: {BAD / 'billion_laughs.xml'}: the file declares a DTD or entities")
    assert snapshot(tmp_path) == before


def test_entities_stay_unexpanded_even_past_the_dtd_check():
    """Defence in depth: the parser itself neither expands entities nor reads files or the network."""
    for name in ("billion_laughs.xml", "external_entity.xml"):
        try:
            root = etree.fromstring((BAD / name).read_bytes(), adapter._safe_parser())
        except etree.XMLSyntaxError as exc:  # libxml2 refuses outright: amplification, external entity
            assert "amplification" in str(exc) or "external entity" in str(exc), exc
            continue
        text = etree.tostring(root)
        assert b"lollollol" not in text and b"root:" not in text


def test_truncated_names_the_line():
    with pytest.raises(FlexParseError) as err:
        adapter.parse((BAD / "truncated.xml").read_bytes(), "truncated.xml")
    assert err.value.line is not None and str(err.value).startswith(f"truncated.xml:{err.value.line}: ")
    assert "fetch it again" in str(err.value)


#: Statements that parse and pass the schema check but fail in mapping: (file, attribute, IBKR's bad value).
UNMAPPABLE = {"trade_quantity_typo.xml": ("quantity", "'1O' is not a number"),
              "trade_date_slashes.xml": ("dateTime", "'2024/01/02;100000' is not a date")}
GOOD = Path(__file__).parent / "fixtures" / "trades" / "short_covered.xml"


@pytest.mark.parametrize("name", list(UNMAPPABLE))
def test_import_of_an_unmappable_statement_archives_nothing_and_blocks_nothing(tmp_path, capsys, name):
    """Mapped in memory with the archive before it is stored: exit 1 naming file, line, section and field; raw/
    and generated/ as they were; runs.log says status=error; the next good import works."""
    from beanflex.importers.flex import runlog

    create_skeleton(tmp_path)
    main = str(tmp_path / "ledger" / "main.beancount")
    assert run_main(["--ledger", main, "import", str(GOOD)], capsys)[0] == 0
    before = snapshot(tmp_path)
    attribute, problem = UNMAPPABLE[name]
    code, output = run_main(["--ledger", main, "import", str(BAD / name)], capsys)
    assert code == 1, output
    assert output.startswith(f"Error: {BAD / name}:7, section Trades, attribute {attribute}: {problem}"), output
    assert "nothing was archived" in output and "Traceback" not in output
    assert snapshot(tmp_path) == before
    last = runlog.read_runs(tmp_path / "ledger")[-1]
    assert (last.command, last.status) == ("import", "error") and str(BAD / name) in last.message
    code, output = run_main(["--ledger", main, "import", str(GOOD)], capsys)
    assert code == 0 and "(already archived)" in output, output
    code, output = run_main(["--ledger", main, "check"], capsys)
    assert code == 0 and "mapping: 0 row(s) not mapped, 0 flagged '!', 0 error(s)" in output, output


def test_an_unmappable_file_already_in_raw_is_named_by_import_rebuild_and_check(tmp_path, capsys):
    """A file archived by an older beanflex (or copied into raw/ by hand) stops every run: each error says which
    file to move out of raw/ and why; `check` counts it as an error (exit 1), not 0 errors."""
    create_skeleton(tmp_path)
    main = str(tmp_path / "ledger" / "main.beancount")
    folder = tmp_path / "ledger" / "raw" / "U1" / "2024"
    folder.mkdir(parents=True)
    stuck = folder / "20240101_20241231_bad-mapping_0123456789ab.xml"
    stuck.write_bytes((BAD / "trade_quantity_typo.xml").read_bytes())
    for args in (["rebuild"], ["import", str(GOOD)], ["check"]):
        code, output = run_main(["--ledger", main, *args], capsys)
        assert code == 1, (args, output)
        assert "raw/U1/2024/20240101_20241231_bad-mapping_0123456789ab.xml:7, section Trades, attribute quantity" \
            in output, (args, output)
        assert f"stops every import, rebuild and sync: fix the Flex Query, then move {stuck} out of raw/" \
            in " ".join(output.split()), (args, output)
    assert [p.name for p in folder.iterdir()] == [stuck.name], "the good file was not archived either"
