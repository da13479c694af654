"""The bare ingest loop the LIMS is compared with: per envelope JCS + Ed25519 verify + one INSERT.

``python -m bench.ingest_reference DB_URL PUBLIC_KEY LINES_FILE``: reads the JCS lines, prints
``ready``, waits for a line on stdin, then for each batch of 100: per line ``json.loads``, the
signing bytes (``rfc8785.dumps`` of the envelope without ``sig``: the JCS library, as a bare loop
uses it), ``Ed25519PublicKey.verify``, SHA-256 of the line and one ``INSERT`` (gateway, seq, hash,
text), one commit per batch; prints ``done``.
SQLite runs with WAL and ``synchronous=FULL`` like the LIMS; PostgreSQL through psycopg.
"""

from __future__ import annotations

import base64
import hashlib
import json
import sqlite3
import sys
from pathlib import Path
from typing import Any

import rfc8785
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from protocols.envelope import b64url_decode

BATCH = 100
TABLE = ("CREATE TABLE IF NOT EXISTS ref_envelopes (gateway_id TEXT NOT NULL, seq BIGINT NOT NULL, "
         "hash TEXT NOT NULL, raw_text TEXT NOT NULL, PRIMARY KEY (gateway_id, seq))")


def _connect(url: str) -> tuple[Any, str]:
    if url.startswith("postgresql"):
        import psycopg

        conn = psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"))
        return conn, "%s"
    conn = sqlite3.connect(url.removeprefix("sqlite:///"))
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=FULL")
    return conn, "?"


def main() -> None:
    url, public_key, lines_file = sys.argv[1:4]
    lines = Path(lines_file).read_bytes().splitlines()
    key = Ed25519PublicKey.from_public_bytes(b64url_decode(public_key))
    conn, mark = _connect(url)
    conn.execute(TABLE)
    conn.commit()
    insert = f"INSERT INTO ref_envelopes VALUES ({mark}, {mark}, {mark}, {mark})"
    print("ready", flush=True)
    sys.stdin.readline()
    for start in range(0, len(lines), BATCH):
        cursor = conn.cursor()
        for line in lines[start:start + BATCH]:
            envelope = json.loads(line)
            signature = base64.urlsafe_b64decode(envelope["sig"] + "==")
            key.verify(signature, rfc8785.dumps({k: v for k, v in envelope.items() if k != "sig"}))
            digest = hashlib.sha256(line).hexdigest()
            cursor.execute(insert, (envelope["gateway"], envelope["seq"], digest, line.decode("utf-8")))
        conn.commit()
    print("done", flush=True)
    sys.stdin.readline()
    conn.close()


if __name__ == "__main__":
    main()
