"""Rendering of the staff and public pages: language, switch link, cookie, not-found and login redirects."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi.responses import HTMLResponse, RedirectResponse
from starlette.requests import Request

from .i18n import HTML_LANG, LANG_COOKIE, pick_lang, translator


def _switch_url(request: Request, other: str) -> str:
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "lang"] + [("lang", other)]
    return request.url.path + "?" + "&".join(f"{quote(k)}={quote(v)}" for k, v in params)


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    """Render ``template`` with ``t``, ``lang`` and the language switch; remember an explicit ``?lang=``."""
    lang = pick_lang(request)
    other = "en" if lang == "zh" else "zh"
    full = {**context, "t": translator(lang), "lang": lang, "html_lang": HTML_LANG[lang],
            "switch_url": _switch_url(request, other), "switch_lang": HTML_LANG[other]}  # type: ignore[index]
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, full, status_code=status_code)
    if request.query_params.get("lang") == lang:
        response.set_cookie(LANG_COOKIE, lang, max_age=365 * 24 * 3600, samesite="lax")
    return response


def not_found(request: Request) -> HTMLResponse:
    """The same 404 page for an unknown site and for one outside the caller's scope."""
    return render(request, "page_not_found.html", {}, status_code=404)


def to_login(request: Request) -> RedirectResponse:
    """Send an anonymous caller to the login form, back here afterwards."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)
