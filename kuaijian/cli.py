"""The ``kuaijian`` console script: gateway, audit, LIMS and simulator commands, and the demo.

``lims``, ``sim`` and ``audit export`` replace this process (same PID, like ``gateway run``) with
``python -m lims_api`` / ``python -m firmware_sim``, each with only its own libraries loaded: a
SIGTERM or Ctrl-C sent to ``kuaijian sim …`` reaches the simulator itself.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import typer
from rich.console import Console

from .audit import BundleReadError, verify_path
from .audit_progress import Stopwatch, progress_bar, summary
from .cli_gateway import gateway_app

app = typer.Typer(help="kuaijian 快检: rapid-test rooms to LIMS.", no_args_is_help=True, add_completion=False)
app.add_typer(gateway_app, name="gateway", help="The test-room gateway daemon.")
audit_app = typer.Typer(help="Export and verify audit bundles; prove single results; monitor the log.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")
console = Console(stderr=True, soft_wrap=True)
PASS_THROUGH = {"allow_extra_args": True, "ignore_unknown_options": True, "help_option_names": []}


def _hand_over(module: str, args: list[str]) -> int:
    """Replace this process with ``python -m module args`` (returns only when that cannot start)."""
    sys.stdout.flush()
    sys.stderr.flush()
    try:
        os.execv(sys.executable, [sys.executable, "-m", module, *args])
    except OSError as exc:
        console.print(f"[red]cannot start python -m {module}:[/red] {exc}")
        return 127


@app.command("lims", context_settings=PASS_THROUGH)
def lims(ctx: typer.Context) -> None:
    """LIMS service commands (serve, init-db, export, ...): see `kuaijian lims --help`."""
    raise typer.Exit(_hand_over("lims_api", ctx.args or ["--help"]))


@app.command("sim", context_settings=PASS_THROUGH)
def sim(ctx: typer.Context) -> None:
    """Run a simulated instrument: `kuaijian sim enzyme|gold|astm|line|camera [options]`."""
    raise typer.Exit(_hand_over("firmware_sim", ctx.args))


@audit_app.command("export", context_settings=PASS_THROUGH)
def audit_export(ctx: typer.Context) -> None:
    """Write an audit bundle from the LIMS database: `--db URL --out DIR [--from D] [--to D] [--site S] [--tar]`."""
    raise typer.Exit(_hand_over("lims_api", ["export", *ctx.args]))


@audit_app.command("verify")
def audit_verify(
    path: Path = typer.Argument(..., help="Bundle directory or .tar.gz"),
    evidence: list[Path] = typer.Option([], "--evidence", help="An image file <sha256>.png|jpg to check too (repeat)."),
    jobs: int = typer.Option(0, "--jobs", help="Processes checking signatures (0: one per core)."),
) -> None:
    """Verify a bundle offline, and every evidence image in it or given; exit 1 and name each fault."""
    jobs = jobs if jobs > 0 else os.cpu_count() or 1
    clock = Stopwatch()
    size = 0

    def progress(total: int) -> Callable[[int], None]:
        nonlocal size
        size = total
        return stack.enter_context(progress_bar(console, total))

    try:
        with ExitStack() as stack:
            report = verify_path(path, evidence, jobs=jobs, progress=progress)
    except BundleReadError as exc:
        console.print(f"[red]cannot read bundle:[/red] {exc}")
        raise typer.Exit(2) from None
    if not console.is_terminal:
        console.print(summary(report.envelopes, size, clock.seconds, jobs), markup=False, highlight=False)
    for fault in report.faults:
        console.print(f"[red]FAIL[/red] {fault}", markup=True, highlight=False)
    chains = ", ".join(f"{gw} up to seq {seq}" for gw, seq in sorted(report.gateways.items()))
    if report.ok:
        images = f"; {report.images} evidence image(s) match their hashes" if report.images else ""
        console.print(f"[green]OK[/green] {report.envelopes} envelope(s) verified; chains: {chains or 'none'}{images}")
        return
    console.print(f"[red]{len(report.faults)} fault(s)[/red] in {report.envelopes} envelope(s)")
    raise typer.Exit(1)


@audit_app.command("prove")
def audit_prove(
    result_id: str = typer.Argument(..., help="The result's id (result.id)"),
    bundle: Path | None = typer.Option(None, help="Make the receipt from this export bundle (offline)."),
    url: str | None = typer.Option(None, help="Fetch the receipt from this LIMS, e.g. http://127.0.0.1:8700"),
    out: Path = typer.Option(..., help="Receipt file to write (JSON)."),
) -> None:
    """Write a self-contained receipt of one result: envelope, keys, inclusion proof, signed tree head."""
    from .cli_receipt import prove

    prove(result_id, bundle, url, out)


@audit_app.command("verify-receipt")
def audit_verify_receipt(
    path: Path = typer.Argument(..., help="Receipt file"),
    lims_kid: str | None = typer.Option(None, help="Require the tree head to be signed by this LIMS key id."),
    witness_key: list[str] = typer.Option([], help="Trusted witness public key (base64url); repeatable."),
) -> None:
    """Check a receipt offline (signature, inclusion, tree head signature); exit 1 naming what failed."""
    from .cli_receipt import verify_receipt_file

    verify_receipt_file(path, lims_kid, witness_key)


@audit_app.command("monitor")
def audit_monitor(
    url: str = typer.Argument(..., help="LIMS base URL"),
    state: Path = typer.Option(Path("kuaijian-monitor.json"), help="Where the last accepted tree head is kept."),
    witness_key: Path | None = typer.Option(None, help="Co-sign each verified head with this Ed25519 PEM key."),
) -> None:
    """Fetch new tree heads and check they extend the last one seen; exit 1 on a split view or rewritten log."""
    from .cli_receipt import monitor

    monitor(url, state, witness_key)


@app.command("demo")
def demo(
    results: int = typer.Option(0, help="Stop once this many results are stored at the LIMS (0: run until Ctrl-C)."),
    export: Path | None = typer.Option(None, help="After stopping, write the audit bundle here."),
    data_dir: Path = typer.Option(Path(".demo"), help="Working folder (wiped at start unless another demo holds it)."),
    port: int = typer.Option(8700, help="LIMS HTTP port on 127.0.0.1 (0: any free port); a port in use is an error."),
    fast: bool = typer.Option(False, "--fast", help="Simulators as fast as they go (default with --results)."),
) -> None:
    """Run the whole chain on embedded defaults: LIMS, simulators, gateway; print the page URL.

    Until Ctrl-C it runs at a room's pace (about five tests a minute), one line per stored result.
    """
    from .demo import run_demo

    raise typer.Exit(run_demo(results=results, export=export, data_dir=data_dir, port=port, console=console,
                              fast=fast or results > 0))


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
