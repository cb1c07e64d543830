"""`beanflex --help` and every subcommand's `--help` say what it does in one line (issue 3, item 1)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from beanflex.cli import cli


def all_commands(group: click.Group = cli, prefix: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    found = [(prefix, group)] if not prefix else []
    for name, command in sorted(group.commands.items()):
        found.append(((*prefix, name), command))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


COMMANDS = all_commands()


def test_every_designed_command_is_there():
    names = {path[0] for path, _ in COMMANDS if path}
    assert {"init", "fetch", "import", "rebuild", "sync", "check", "report", "explain", "serve", "demo"} <= names


@pytest.mark.parametrize("path, command", COMMANDS, ids=lambda v: " ".join(v) if isinstance(v, tuple) else "")
def test_help_is_one_line(path, command):
    text = (command.help or "").strip()
    assert text and "\n" not in text, f"beanflex {' '.join(path)}: help must be one line, got {text!r}"
    assert "not built yet" not in text.lower()
    result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=200)
    assert result.exit_code == 0, result.output
    # The description paragraph of --help is exactly that one line.
    paragraphs = result.output.split("\n\n")
    assert paragraphs[1].strip() == text


def test_installed_console_script_help():
    beanflex = Path(sys.executable).parent / "beanflex"
    proc = subprocess.run([str(beanflex), "--help"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "Usage: beanflex" in proc.stdout
    assert "fetch" in proc.stdout and "init" in proc.stdout
