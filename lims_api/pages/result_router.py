"""The public page of one published result (reached by its QR code) and the QR code itself.

The page carries no result data from the server: its script fetches the receipt and shows
what the signed envelope says once it has verified it in the browser (``receipt.js``).
"""

from __future__ import annotations

import io

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from lims_api.audit.log_proofs import ProofUnavailable, published_envelope
from lims_api.core.deps import SessionDep

from .render import not_found, render

router = APIRouter(tags=["pages"], include_in_schema=False)


def result_url(request: Request, result_id: str) -> str:
    """Absolute URL of the result's public page."""
    return str(request.url_for("public_result", result_id=result_id))


@router.get("/public/results/{result_id}", response_class=HTMLResponse)
def public_result(request: Request, result_id: str, session: SessionDep) -> HTMLResponse:
    """Anyone: a published result, verified in the browser from its receipt."""
    try:
        published_envelope(session, result_id)
    except ProofUnavailable:
        return not_found(request)
    return render(request, "result.html", {"result_id": result_id})


@router.get("/public/results/{result_id}/qr.svg")
def result_qr(request: Request, result_id: str, session: SessionDep) -> Response:
    """QR code (SVG) of the result page's URL, for the notice rows and their print layout."""
    try:
        published_envelope(session, result_id)
    except ProofUnavailable:
        return Response(status_code=404)
    out = io.BytesIO()
    segno.make(result_url(request, result_id), error="m").save(out, kind="svg", scale=3, border=2,
                                                                  xmldecl=False, svgns=True)
    return Response(out.getvalue(), media_type="image/svg+xml",
                    headers={"Cache-Control": "public, max-age=86400"})
