"""Pay commands: `pay close-period`, `ledger verify`, `certificate verify`.

Their forms are fixed (scripts and auditors rely on them): `datadam pay close-period
--period 2026-11`, `datadam ledger verify`, `datadam certificate verify FILE`.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

from datadam.cli.context import fail, open_migrated, reported_errors

pay_app = typer.Typer(help="Pay periods.", no_args_is_help=True)
ledger_app = typer.Typer(help="The pay ledger.", no_args_is_help=True)
certificate_app = typer.Typer(help="Work-history certificates.", no_args_is_help=True)

PublicKeyOption = Annotated[
    Path | None,
    typer.Option(
        "--public-key",
        help="PEM public key to check against (default: the platform key in DATA_DIR).",
        dir_okay=False,
    ),
]


def register(app: typer.Typer) -> None:
    """Add the pay commands to the main app."""
    app.add_typer(pay_app, name="pay")
    app.add_typer(ledger_app, name="ledger")
    app.add_typer(certificate_app, name="certificate")


def _print(data: dict[str, Any]) -> None:
    print(json.dumps(data, ensure_ascii=False, indent=2, default=str))


@pay_app.command("close-period")
def close_period(
    period: Annotated[str, typer.Option(help="The month to close, YYYY-MM (UTC).")],
) -> None:
    """Post the period's earnings and minimum-wage top-ups; running it again changes nothing."""
    from datadam.pay.keys import platform_key_for
    from datadam.pay.period import close_period as close
    from datadam.settings import get_settings

    settings = get_settings()
    with reported_errors():
        key = platform_key_for(settings.data_dir)
        db = open_migrated(settings)
        try:
            with db.write() as session:
                summary = close(session, key, period)
        finally:
            db.dispose()
    _print(summary)


def _public_key(path: Path | None) -> Any:
    from datadam.pay.keys import load_platform_key, load_public_key
    from datadam.settings import get_settings

    if path is not None:
        return load_public_key(path.read_bytes())
    key = load_platform_key(get_settings().data_dir)
    return None if key is None else key.public


@ledger_app.command("verify")
def ledger_verify(public_key: PublicKeyOption = None) -> None:
    """Check the hash chain, the signed checkpoints and every balance.

    Exit 0 with a JSON summary when all hold; exit 1 naming the first bad entry otherwise.
    """
    from datadam.pay.verify import verify_ledger

    with reported_errors():
        key = _public_key(public_key)
        db = open_migrated()
        try:
            with db.read() as session:
                report = verify_ledger(session, key)
        finally:
            db.dispose()
    _print(report.summary())
    if not report.ok:
        print(f"error: {report.problem}", file=sys.stderr)
        raise typer.Exit(1)


@certificate_app.command("verify")
def certificate_verify(
    file: Annotated[Path, typer.Argument(help="The certificate (JSON).", dir_okay=False)],
    public_key: PublicKeyOption = None,
) -> None:
    """Exit 0 and print the certified facts when the certificate is valid; exit 1 otherwise."""
    from datadam.pay.certificate import CertificateInvalid, verify_certificate

    with reported_errors():
        key = _public_key(public_key)
        if key is None:
            raise fail("no platform key here; pass the issuer's key with --public-key", 1)
        raw = file.read_bytes()
    try:
        facts = verify_certificate(raw, key)
    except CertificateInvalid as exc:
        print(f"error: certificate invalid: {exc.message}", file=sys.stderr)
        raise typer.Exit(1) from None
    _print({"valid": True, "certificate": facts})
