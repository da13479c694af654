"""Key rotation and revocation, and the tamper-evident audit log that records them."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from kuaijian.audit import verify_path
from lims_api import export_bundle
from lims_api.audit import audit_log
from lims_api.core.db import make_sessionmaker

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def test_rotation_keeps_the_chain_and_revocation_stops_only_new_envelopes(
    lims: Lims, gateway: SigningGateway, tmp_path: Path
) -> None:
    old_kid = lims.enrol(gateway)["kid"]
    assert lims.ingest(gateway.next())[0]["status"] == "stored"
    old_key = gateway.key
    rotated = type(gateway)(gateway=gateway.gateway)
    response = lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys", json={"public_key": rotated.public_key},
                                headers=lims.auth)
    assert response.status_code == 201 and response.json()["kid"] != old_kid
    again = lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys", json={"public_key": rotated.public_key},
                             headers=lims.auth)
    assert again.status_code == 200
    gateway.key = rotated.key
    assert lims.ingest(gateway.next())[0]["status"] == "stored"  # seq 2, new kid, same chain
    gateway.key = old_key
    assert lims.ingest(gateway.next())[0]["status"] == "stored"  # seq 3: the old key is still valid
    revoked = lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys/{old_kid}/revoke", headers=lims.auth)
    assert revoked.status_code == 200
    position = (gateway.seq, gateway.prev)
    late = lims.ingest(gateway.next())[0]
    assert (late["status"], late["code"]) == ("rejected", "revoked_kid")
    (gateway.seq, gateway.prev), gateway.key = position, rotated.key
    assert lims.ingest(gateway.next())[0]["status"] == "stored"  # seq 4 with the new key
    export_bundle(lims.engine, tmp_path / "b", None, None, None)
    report = verify_path(tmp_path / "b")
    assert report.ok, report.faults  # seq 1 and 3 were received before the revocation: still valid
    unknown = lims.client.post("/api/v1/gateways/gw-nobody/keys", json={"public_key": rotated.public_key},
                               headers=lims.auth)
    assert unknown.status_code == 404
    reuse = lims.client.post(f"/api/v1/gateways/{gateway.gateway}/keys",
                             json={"public_key": type(gateway)(key=old_key).public_key}, headers=lims.auth)
    assert reuse.status_code == 409 and "revoked" in reuse.json()["detail"]
    actions = [r.action for r in lims.rows("SELECT action FROM audit_log WHERE action LIKE 'gateway.%' ORDER BY seq")]
    assert actions == ["gateway.enrol", "gateway.key_rotate", "gateway.key_revoke"]


def test_audit_chain_verifies_and_any_edit_or_removal_is_found(lims: Lims, gateway: SigningGateway) -> None:
    lims.enrol(gateway)
    lims.ingest(gateway.next())  # a positive: case.open
    lims.client.post("/api/v1/auth/login", json={"username": "x", "password": "y"})
    with Session(lims.engine) as session:
        check = audit_log.verify_audit_chain(session)
    assert check.ok and check.entries == 3
    rows = lims.rows("SELECT seq, actor, action FROM audit_log ORDER BY seq")
    assert [(r.seq, r.action) for r in rows] == [(1, "gateway.enrol"), (2, "case.open"), (3, "auth.login_failed")]
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE audit_log SET details = '{\"kid\":\"forged\"}' WHERE seq = 1")
    with Session(lims.engine) as session:
        assert audit_log.verify_audit_chain(session).fault == "seq 1: content does not match its hash (entry was altered)"
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq = 1")
    with Session(lims.engine) as session:
        assert "seq 1 is missing" in str(audit_log.verify_audit_chain(session).fault)
    with lims.engine.begin() as conn:
        conn.exec_driver_sql("DELETE FROM audit_log WHERE seq >= 2")  # a clean-looking empty log...
    with Session(lims.engine) as session:
        assert "head says seq 3" in str(audit_log.verify_audit_chain(session).fault)  # ...the head remembers


def test_concurrent_appends_form_one_chain_and_verify_rate(lims: Lims) -> None:
    sessions = make_sessionmaker(lims.engine)
    start, per_thread, threads = threading.Barrier(4), 25, 4
    failures: list[BaseException] = []

    def work(index: int) -> None:
        try:
            start.wait(timeout=10)
            for n in range(per_thread):
                with sessions() as session:
                    audit_log.append(session, f"tester:{index}", "test.append", f"n:{n}", {"n": n})
                    session.commit()
        except BaseException as exc:
            failures.append(exc)

    workers = [threading.Thread(target=work, args=(i,)) for i in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)
    assert not failures, failures
    with Session(lims.engine) as session:
        began = time.perf_counter()
        check = audit_log.verify_audit_chain(session)
        elapsed = time.perf_counter() - began
    assert check.ok and check.entries == per_thread * threads
    print(f"\naudit verify ({lims.engine.dialect.name}): {check.entries} entries in {elapsed * 1000:.1f} ms "
          f"= {check.entries / elapsed:.0f} entries/s")
