"""`deployflow cert generate|info|verify|trust|renew`: certificates from a local CA (Debian's
mkcert when installed, else the cryptography package) for the stack's domains and IPs."""

from __future__ import annotations

from typing import Annotated

import typer

from deployflow.cli.common import JsonOpt, RootOpt, StackOpt, echo_json, load

app = typer.Typer(
    help="Certificates: generate, info, verify, trust, renew (a local CA; HTTPS on the proxy).",
    no_args_is_help=True,
)


@app.command("generate")
def generate(
    domains: Annotated[
        str, typer.Option("--domains", help="Comma-separated names and IPs: a.example,10.0.0.5")
    ],
    name: Annotated[
        str | None, typer.Option("--name", help="File name (default: from the first domain).")
    ] = None,
    engine: Annotated[str, typer.Option("--engine", help="auto | mkcert | builtin")] = "auto",
    days: Annotated[int, typer.Option("--days", min=1, max=3650, help="Validity (builtin).")] = 825,
    install_trust: Annotated[
        bool, typer.Option("--install-trust", help="Also put the CA in the system trust store.")
    ] = False,
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Issue a certificate for DOMAINS into <root>/shared/certs/ (key 0600), recorded with its
    domains, serial, issuer and expiry; a proxy serving it is reloaded."""
    from deployflow.core.certnames import parse_names
    from deployflow.errors import UsageError
    from deployflow.ops.certs import generate as issue_cert
    from deployflow.ops.certs import trust

    if engine not in ("auto", "mkcert", "builtin"):
        raise UsageError(f"--engine {engine!r}: auto, mkcert or builtin")
    names = parse_names(domains)
    ctx = load(stack, root)
    say = (lambda _m: None) if json_out else typer.echo
    record = issue_cert(ctx, names, name, engine, days, log=say)
    if install_trust:
        trust(log=say)
    if json_out:
        echo_json(record)


@app.command("info")
def info(
    stack: StackOpt = "deployflow.yaml", root: RootOpt = None, json_out: JsonOpt = False
) -> None:
    """Each certificate: domains, issuer, validity, days left, grade and the proxy listeners
    that serve it."""
    from deployflow.ops.certs import cert_rows

    rows = cert_rows(load(stack, root, read_only=True))
    if json_out:
        echo_json(rows)
        return
    if not rows:
        typer.echo("no certificates yet; deployflow cert generate --domains ...")
    for row in rows:
        typer.echo(f"{row['name']}  [{row['grade']}] {row['detail']}")
        if row["domains"]:
            typer.echo(f"  domains   {', '.join(row['domains'])}")
            typer.echo(f"  issuer    {row['issuer']}  serial {row['serial']}")
            typer.echo(f"  valid     {row['not_before']} .. {row['not_after']}")
            typer.echo(f"  served by {', '.join(row['used_by']) or '-'}  file {row['file']}")


@app.command("verify")
def verify(
    domain: Annotated[str, typer.Option("--domain", help="The name or IP to check.")],
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
    json_out: JsonOpt = False,
) -> None:
    """Check the certificate for DOMAIN: covered, chain to the CA, expiry, and a live TLS
    handshake with the proxy when it serves it. Exit 1 when any check fails."""
    from deployflow.ops.certs import verify as run_checks

    checks = run_checks(load(stack, root, read_only=True), domain)
    if json_out:
        echo_json(checks)
    else:
        for c in checks:
            typer.echo(f"{'ok  ' if c['ok'] else 'FAIL'} {c['check']:9} {c['detail']}")
    if not all(c["ok"] for c in checks):
        raise typer.Exit(1)


@app.command("trust")
def trust_ca() -> None:
    """Install the local CA into the system trust store (update-ca-certificates; as root)."""
    from deployflow.ops.certs import trust

    trust(log=typer.echo)


@app.command("renew")
def renew(
    days: Annotated[int, typer.Option("--days", min=0, help="Renew what expires within.")] = 30,
    dry_run: Annotated[bool, typer.Option("--dry-run", help="Say what would be renewed.")] = False,
    stack: StackOpt = "deployflow.yaml",
    root: RootOpt = None,
) -> None:
    """Re-issue each certificate expiring within DAYS (or unreadable), under the deploy lock;
    reload the proxy and notify: the `cert` flow the daily schedule runs, as a Prefect run."""
    ctx = load(stack, root, read_only=dry_run)
    if dry_run:
        from deployflow.ops.certs import renew as renew_due

        renew_due(ctx, days, dry_run=True, log=typer.echo)
        return
    from deployflow.cli.flows import run_flow

    done = run_flow("cert", stack=stack, root=root, days=days, project=ctx.stack.project)
    renewed = done["renewed"]
    typer.echo(
        f"renewed: {', '.join(renewed)}" if renewed else f"nothing expires within {days} days"
    )
