"""``kuaijian audit prove | verify-receipt | monitor``: receipts of single results and watching the LIMS's log."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import typer
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import load_pem_private_key
from rich.console import Console

from protocols.bundle import Report, parse_keys
from protocols.bundle_log import BundleLogError, receipt_from_bundle
from protocols.envelope import b64url_decode, key_id
from protocols.log_monitor import SplitView, check_extends, new_heads
from protocols.receipt import verify_receipt
from protocols.treehead import TreeHeadError, cosign

from .audit import BundleReadError, read_bundle_files

console = Console(stderr=True, soft_wrap=True, highlight=False)
TIMEOUT_S = 30.0


def _fail(message: str, code: int = 2) -> typer.Exit:
    console.print(f"[red]{message}[/red]")
    return typer.Exit(code)


def _get(client: httpx.Client, path: str, **params: Any) -> Any:
    try:
        response = client.get(path, params=params)
    except httpx.HTTPError as exc:
        raise _fail(f"cannot reach the LIMS: {exc}") from None
    if response.status_code != 200:
        raise _fail(f"{path}: HTTP {response.status_code}: {response.text[:300]}")
    return response.json()


def prove(result_id: str, bundle: Path | None, url: str | None, out: Path) -> None:
    """Write the receipt of ``result_id`` from a bundle or a LIMS."""
    if (bundle is None) == (url is None):
        raise _fail("give exactly one of --bundle DIR or --url LIMS_URL")
    if bundle is not None:
        try:
            files = read_bundle_files(bundle)
            receipt = receipt_from_bundle(files, parse_keys(files["keys.json"], Report()), result_id)
        except (BundleReadError, BundleLogError) as exc:
            raise _fail(f"no receipt: {exc}") from None
    else:
        with httpx.Client(base_url=str(url), timeout=TIMEOUT_S) as client:
            receipt = _get(client, f"/api/v1/log/receipts/{result_id}")
    out.write_text(json.dumps(receipt, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    console.print(f"receipt of {result_id} written to {out} (log entry {receipt['inclusion']['index']} "
                  f"of {receipt['inclusion']['size']})")


def _witness_keys(texts: list[str]) -> dict[str, bytes]:
    keys = {}
    for text in texts:
        try:
            raw = b64url_decode(text)
        except ValueError:
            raise _fail(f"--witness-key {text!r} is not base64url") from None
        keys[key_id(raw)] = raw
    return keys


def verify_receipt_file(path: Path, lims_kid: str | None, witness_keys: list[str]) -> None:
    """Check a receipt offline; exit 1 naming each failed check."""
    try:
        receipt = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read receipt {path}: {exc}") from None
    report = verify_receipt(receipt, lims_kid, _witness_keys(witness_keys) or None)
    for check in report.checks:
        mark = "[green]OK  [/green]" if check.ok else "[red]FAIL[/red]"
        console.print(f"{mark} {check.name}: {check.detail}")
    if not report.ok:
        raise typer.Exit(1)
    if lims_kid is None:
        console.print(f"LIMS key {receipt['lims_key']['kid']}: compare it with the key your regulator publishes "
                      f"(or pass --lims-kid)")


def _load_state(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))  # type: ignore[no-any-return]
    except (OSError, json.JSONDecodeError) as exc:
        raise _fail(f"cannot read monitor state {path}: {exc}") from None


def _lims_key(state: dict[str, Any] | None, listing: dict[str, Any]) -> dict[str, str]:
    if state is not None:
        return state["lims_key"]  # type: ignore[no-any-return]
    keys = listing.get("keys") or []
    if len(keys) != 1:
        raise _fail(f"the LIMS lists {len(keys)} signing keys; a first run needs exactly one to pin")
    console.print(f"first run: pinning LIMS key {keys[0]['kid']} (compare it with the key your regulator publishes)")
    return {"kid": keys[0]["kid"], "public_key": keys[0]["public_key"]}


def _cosign_all(client: httpx.Client, heads: list[dict[str, Any]], witness: Ed25519PrivateKey) -> None:
    for head in heads:
        response = client.post("/api/v1/log/cosignatures", json={"size": head["size"], **cosign(head, witness)})
        if response.status_code != 204:
            console.print(f"[yellow]co-signature of size {head['size']} not accepted: {response.text[:200]}[/yellow]")


def monitor(url: str, state_path: Path, witness_key: Path | None) -> None:
    """Fetch new heads, check each extends the last one seen, remember the newest; exit 1 on a split view."""
    state = _load_state(state_path)
    last = state["tree_head"] if state else None
    with httpx.Client(base_url=url, timeout=TIMEOUT_S) as client:
        listing = _get(client, "/api/v1/log/tree-heads", since=last["size"] if last else 0)
        lims_key = _lims_key(state, listing)
        heads = [item["tree_head"] for item in listing["tree_heads"]]
        try:
            fresh = new_heads(last, heads, b64url_decode(lims_key["public_key"]))
            previous = last
            for head in fresh:
                if previous is not None:
                    proof = _get(client, "/api/v1/log/consistency", first=previous["size"], second=head["size"])
                    check_extends(previous, head, [bytes.fromhex(p) for p in proof["path"]])
                previous = head
        except (SplitView, TreeHeadError) as exc:
            raise _fail(f"LOG INCONSISTENT: {exc}", 1) from None
        if witness_key is not None and fresh:
            _cosign_all(client, fresh, _load_witness(witness_key))
    newest = fresh[-1] if fresh else last
    if newest is not None:
        state_path.write_text(json.dumps({"url": url, "lims_key": lims_key, "tree_head": newest}, indent=2) + "\n",
                              encoding="utf-8")
    size = newest["size"] if newest else 0
    console.print(f"[green]OK[/green] {len(fresh)} new tree head(s); log size {size}, consistent with what was seen")


def _load_witness(path: Path) -> Ed25519PrivateKey:
    try:
        key = load_pem_private_key(path.read_bytes(), password=None)
    except (OSError, ValueError) as exc:
        raise _fail(f"cannot read witness key {path}: {exc}") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise _fail(f"{path} does not hold an Ed25519 private key")
    return key
