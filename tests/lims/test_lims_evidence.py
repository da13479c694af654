"""Camera evidence at the LIMS: only a named image with the right hash is kept; the flags API shows it."""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING

from firmware_sim.camera import png_image

from .test_lims_flags import TECHNICIAN, enzyme

if TYPE_CHECKING:
    from .conftest import Lims, SigningGateway


def named(image: bytes) -> dict[str, object]:
    return {"evidence": [{"kind": "snapshot", "sha256": hashlib.sha256(image).hexdigest(),
                          "taken_at": "2026-11-23T09:15:05.300+08:00", "media_type": "image/png"}]}


def put(lims: Lims, sha256: str, body: bytes) -> tuple[int, str]:
    answer = lims.client.put(f"/api/v1/evidence/{sha256}", content=body, headers={"Content-Type": "image/png"})
    return answer.status_code, answer.text


def test_an_image_is_kept_only_when_named_by_a_stored_result_and_matching_its_hash(lims: Lims,
                                                                                   gateway: SigningGateway):
    lims.enrol(gateway)
    image, stranger = png_image(1), png_image(2)
    sha = hashlib.sha256(image).hexdigest()
    assert put(lims, sha, image)[0] == 409  # its envelope has not arrived yet
    lims.ingest(gateway.next(**enzyme(), **named(image)))
    status, text = put(lims, sha, stranger)
    assert status == 422 and "not to " + sha in text
    html = b"<html>login</html>"
    assert put(lims, hashlib.sha256(html).hexdigest(), html)[1].count("not a JPEG or PNG") == 1
    unnamed = hashlib.sha256(stranger).hexdigest()
    assert put(lims, unnamed, stranger)[0] == 409
    assert put(lims, sha, image)[0] == 201
    assert put(lims, sha, image)[0] == 200  # a retried upload is answered, not stored twice
    assert lims.scalar("SELECT count(*) FROM evidence_files") == 1
    assert lims.client.put("/api/v1/evidence/XYZ", content=image, headers={"Content-Type": "image/png"}).status_code == 422


def test_the_flags_of_a_day_with_evidence_for_regulators_and_admins_only(lims: Lims, gateway: SigningGateway):
    lims.enrol(gateway)
    site = gateway.site["id"]
    lims.district("yz")
    lims.place_site(gateway.site, "yz")
    lims.user(TECHNICIAN, "technician", sites=(site,))
    regulator = lims.user("reg-yz", "regulator", district="yz")
    manager = lims.user("mgr-07", "manager", sites=(site,))
    image = png_image(3)
    lims.ingest(gateway.next(**enzyme(), **named(image), qc={"control": "sample", "flags": ["camera_failed:timeout"]}),
                gateway.next(**enzyme(operator="nobody"), **named(image)),
                gateway.next(**enzyme()))
    put(lims, hashlib.sha256(image).hexdigest(), image)
    answer = lims.client.get(f"/api/v1/sites/{site}/flags", params={"day": "2026-11-23"}, headers=regulator)
    assert answer.status_code == 200, answer.text
    day = answer.json()
    assert day["counts"] == {"camera_failed": 1, "operator_not_enrolled": 1}
    assert [r["seq"] for r in day["results"]] == [1, 2]
    assert day["results"][1]["evidence"][0]["received"] is True
    assert lims.client.get(f"/api/v1/sites/{site}/flags", params={"day": "2026-11-23"},
                           headers=manager).status_code == 403
    assert lims.client.get(f"/api/v1/sites/{site}/flags", params={"day": "2026-11-23"}).status_code in (401, 403)
    other = lims.client.get("/api/v1/sites/elsewhere/flags", params={"day": "2026-11-23"}, headers=regulator)
    assert other.status_code == 404
