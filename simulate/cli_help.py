"""The command lines' help: wrapped at 80 columns, every option's default shown, ``--version``.

``HelpFormatter`` wraps descriptions and help at 80 columns (whatever the terminal says),
keeps the indented example blocks of an epilog as written, and appends ``(default: X)`` to
an option's help when the help does not already name its default and there is one to name.
"""

from __future__ import annotations

import argparse
import re
import textwrap

WIDTH = 80


class HelpFormatter(argparse.HelpFormatter):
    """Help wrapped at 80 columns, examples kept, defaults shown (see the module)."""

    def __init__(self, prog: str, **kwargs) -> None:
        kwargs["width"] = WIDTH
        kwargs.setdefault("max_help_position", 30)
        super().__init__(prog, **kwargs)

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        """Paragraphs wrapped; lines that start with spaces (examples) kept as written."""
        out = []
        for block in re.split(r"\n\s*\n", text.strip("\n")):
            lines = block.splitlines()
            if any(line.startswith(" ") for line in lines[1:]) or block.startswith(" "):
                out.append("\n".join(indent + line for line in lines))
            else:
                out.append(
                    textwrap.fill(" ".join(block.split()), width, initial_indent=indent, subsequent_indent=indent)
                )
        return "\n\n".join(out)

    def _get_help_string(self, action: argparse.Action) -> str:
        help_text = action.help or ""
        if "default" in help_text or action.default in (None, False, argparse.SUPPRESS) or not action.option_strings:
            return help_text
        return f"{help_text} (default: {action.default})"


def add_version(parser: argparse.ArgumentParser) -> None:
    """``--version``: the installed leadfunnel version, from the package metadata."""
    from simulate.output_folder import package_version

    parser.add_argument("--version", action="version", version=f"%(prog)s (leadfunnel) {package_version()}")
