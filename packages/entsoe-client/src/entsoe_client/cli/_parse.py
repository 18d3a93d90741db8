"""`entsoe parse FILE`: every point of a saved platform answer, as CSV or JSON.

FILE is one XML document, several concatenated ones, or a ZIP answer (``-`` reads stdin).
Every point is printed, A03 curves expanded (omitted positions repeat the previous value), with
the columns of ``entsoe_client.COLUMNS`` (``timestamp``, ``end``, ``value``, metadata).

Exit codes and messages (always one line on stderr, never a traceback):

* 0: points printed. What the parser dropped or assumed (positions beyond their Period's end,
  a Period whose market time zone could not be told) is one ``warning:`` line each on stderr.
  An Acknowledgement saying "No matching data found" is an empty result,
  not an error: the CSV header alone (JSON: ``[]``) is printed, and the platform's text goes
  to stderr.
* 1: the file can't be read, isn't an ENTSO-E document (malformed XML, unsupported type), or
  is an Acknowledgement refusing the request; its reason goes to stderr.
"""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, TextIO

import typer

from entsoe_client._exceptions import ParseError
from entsoe_client._models import Acknowledgement, MarketDocument
from entsoe_client._parser import parse_response
from entsoe_client._tabular import write_csv, write_json
from entsoe_client.cli._app import app


class OutputFormat(StrEnum):
    csv = "csv"
    json = "json"


def _fail(message: str) -> typer.Exit:
    typer.echo(f"error: {message}", err=True)
    return typer.Exit(1)


def _read(file: str) -> bytes:
    if file == "-":
        return sys.stdin.buffer.read()
    path = Path(file)
    try:
        return path.read_bytes()
    except IsADirectoryError:
        raise _fail(f"{file}: is a directory, not a document") from None
    except OSError as exc:
        raise _fail(f"{file}: {exc.strerror or exc}") from None


def _write(documents: list[MarketDocument], output_format: OutputFormat, out: TextIO) -> int:
    if output_format is OutputFormat.json:
        return write_json(documents, out)
    return write_csv(documents, out)


@app.command()
def parse(
    file: Annotated[str, typer.Argument(help="A saved answer: XML document or ZIP ('-': stdin).")],
    output_format: Annotated[
        OutputFormat, typer.Option("--format", "-f", help="Output format.")
    ] = OutputFormat.csv,
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write to this file instead of stdout.")
    ] = None,
) -> None:
    """Print every point of a saved platform answer (A03 expanded) as CSV or JSON."""
    data = _read(file)
    try:
        items = parse_response(data)
    except ParseError as exc:
        raise _fail(f"{file}: {exc}") from None

    refusals = [i for i in items if isinstance(i, Acknowledgement) and not i.is_no_data]
    if refusals:
        reasons = "; ".join(f"{a.reason_code or '?'}: {a.reason_text}" for a in refusals)
        raise _fail(f"{file}: the platform refused the request (Acknowledgement {reasons})")
    documents = [i for i in items if isinstance(i, MarketDocument)]
    for item in items:
        if isinstance(item, Acknowledgement):
            typer.echo(f"no data: {item.reason_text}", err=True)
    for document in documents:
        for warning in document.warnings:
            typer.echo(f"warning: {document.mrid}: {warning}", err=True)

    if output is None:
        try:
            _write(documents, output_format, sys.stdout)
            sys.stdout.flush()
        except BrokenPipeError:  # `entsoe parse big.xml | head`: the reader left, stop quietly
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            raise typer.Exit(0) from None
    else:
        try:
            with output.open("w", encoding="utf-8", newline="") as out:
                _write(documents, output_format, out)
        except OSError as exc:
            raise _fail(f"{output}: {exc.strerror or exc}") from None
