"""``ddkit demo``: build a bundled sample company's repository and scan it."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from .common import RunOptions
from .scan import run_scan


@click.command()
@click.option("--out-dir", type=click.Path(file_okay=False), default="reports", show_default=True)
@click.option("--name", default="acme", show_default=True, help="Which bundled sample to build.")
@click.option("--quiet", is_flag=True)
def demo(out_dir: str, name: str, quiet: bool) -> None:
    """Build the bundled sample company repository and write reports/<name>.xlsx."""
    from ..samples import build_sample
    paths = build_sample(name)
    out = Path(out_dir) / f"{name}.xlsx"
    inputs: dict[str, Any] = dict(roster=str(paths.roster), company=str(paths.company), as_of=paths.as_of)
    if paths.reference is not None:      # hooli: compared with the previous employer's code it copied from
        inputs["reference"] = [str(paths.reference)]
    o = RunOptions(inputs=inputs,
                   outputs={"xlsx": str(out), "json": str(Path(out_dir) / f"{name}.json"),
                            "sarif": str(Path(out_dir) / f"{name}.sarif")}, quiet=quiet)
    code = run_scan(str(paths.repo), o)
    sys.exit(code)
