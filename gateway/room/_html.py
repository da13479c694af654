"""The room page's HTML: sign-in panel, label form, instrument cards and latest results.

Plain functions over ``markupsafe`` (as ``_fragments``): every value is escaped unless it is ``Markup``.
"""

from __future__ import annotations

from collections.abc import Mapping

from markupsafe import Markup

from ..label_store import QueuedLabel
from ..technicians import Roster, Technician
from ._form import ANY_CHANNEL, CONTROLS
from ._fragments import EMPTY, instrument_list, join, result_row
from ._text import text_for
from ._views import InstrumentCard, ResultRow

CHANNEL_CHOICES = tuple(str(n) for n in range(1, 13))
CATEGORIES = ("vegetable", "fruit", "meat", "aquatic", "other")

_PAGE = Markup("""\
<!doctype html>
<html lang="{html_lang}">
<head>
  <meta charset="utf-8">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <title>{title} · {site_name}</title>
  <link rel="stylesheet" href="/static/room.css">
  <script src="/static/room.js" defer></script>
</head>
<body data-lang="{lang}" data-scanned="{scanned}">
<header class="top">
  <h1>{title} · {site_name}</h1>
  <span class="muted small">{gateway_id}</span>
  <span id="feed-state" class="feed-state" role="status" data-live="{live}" data-lost="{offline_feed}"></span>
  <a class="lang-switch" href="/?lang={switch_lang}" lang="{switch_html_lang}">{switch_label}</a>
</header>
<noscript><p class="notice">{noscript}</p></noscript>

<main class="layout">
{sign_in}

{label_form}

<section class="panel" aria-labelledby="instruments-title">
  <h2 id="instruments-title">{instruments_title}</h2>
  <div id="instruments-list" aria-live="polite">{instruments}</div>
</section>

<section class="panel wide" aria-labelledby="results-title">
  <h2 id="results-title">{results_title}</h2>
  <div class="table-wrap">
  <table class="results">
    <thead><tr>
      <th scope="col">{time}</th><th scope="col">{instrument}</th><th scope="col">{sample}</th>
      <th scope="col">{item}</th><th scope="col">{value}</th><th scope="col">{verdict}</th>
      <th scope="col">{flags}</th><th scope="col">{operator}</th>
    </tr></thead>
    <tbody id="results-body" aria-live="polite" data-last-seq="{last_seq}" data-limit="{recent_results}">
      {rows}
      {no_rows}
    </tbody>
  </table>
  </div>
</section>
</main>
<footer class="muted small">{footer}</footer>
</body>
</html>""")


def page(*, lang: str, site_name: str, gateway_id: str, sign_in_on: bool, recent_results: int,
         instruments: list[str], values: Mapping[str, str], errors: Mapping[str, str], rows: list[ResultRow],
         cards: list[InstrumentCard], notice: QueuedLabel | None, signed_in: Technician | None,
         sign_in_error: str | None, roster: Roster | None) -> Markup:
    """The whole page in ``lang``; ``rows`` newest first, ``values``/``errors`` of the label form by field."""
    t = text_for(lang)
    words = {key: t[key] for key in ("title", "scanned", "live", "offline_feed", "switch_lang", "switch_label",
                                     "noscript", "time", "instrument", "sample", "item", "value", "verdict",
                                     "flags", "operator", "footer")}
    return _PAGE.format(
        **words, html_lang=t["html_lang"], lang=lang, site_name=site_name, gateway_id=gateway_id,
        switch_html_lang="en" if lang == "zh" else "zh-CN",
        sign_in=sign_in_panel(lang, signed_in, sign_in_error, roster) if sign_in_on else EMPTY,
        label_form=label_form(lang, instruments, values, errors, notice),
        instruments_title=t["instruments"], instruments=instrument_list(cards, lang),
        results_title=t["results"], last_seq=rows[0].seq if rows else 0, recent_results=recent_results,
        rows=join(result_row(r, lang) for r in rows),
        no_rows=EMPTY if rows else Markup('<tr class="empty"><td colspan="8">{}</td></tr>').format(t["no_results"]))


_SIGNED_IN = Markup("""\
<section class="panel wide" id="sign-in" aria-labelledby="sign-in-title">
  <h2 id="sign-in-title">{signed_in_as}</h2>
  <div class="row signed-in">
    <p id="signed-in-who"><strong>{name}</strong> <span class="muted small">{id}</span></p>
    <form method="post" action="/sign-out?lang={lang}"><button type="submit" id="sign-out">{sign_out}</button></form>
  </div>
  <p class="muted small">{signed_in_hint}</p>
</section>""")

_SIGN_IN = Markup("""\
<section class="panel wide" id="sign-in" aria-labelledby="sign-in-title">
  <h2 id="sign-in-title">{sign_in}</h2>
  <p class="notice bad small" role="status" id="not-signed-in">{not_signed_in}</p>
  {error}
  {forms}
</section>""")

_SIGN_IN_FORMS = Markup("""
  <div class="row">
    <form method="post" action="/sign-in?lang={lang}" id="badge-form" class="field">
      <label for="f-badge">{badge}</label>
      <input id="f-badge" name="badge" type="password" autocomplete="off" enterkeyhint="go">
      <p class="hint small">{badge_hint}</p>
    </form>
    <form method="post" action="/sign-in?lang={lang}" id="pin-form">
      <div class="row">
        <div class="field">
          <label for="f-technician">{technician}</label>
          <select id="f-technician" name="technician">
            {options}
          </select>
        </div>
        <div class="field">
          <label for="f-pin">{pin}</label>
          <input id="f-pin" name="pin" type="password" inputmode="numeric" autocomplete="off">
        </div>
      </div>
      <button type="submit" class="primary" id="pin-submit">{sign_in_button}</button>
    </form>
  </div>
""")


def sign_in_panel(lang: str, signed_in: Technician | None, error: str | None, roster: Roster | None) -> Markup:
    """Who is signed in (with sign-out), or the badge and PIN forms (a notice while no roster has come)."""
    t = text_for(lang)
    if signed_in is not None:
        return _SIGNED_IN.format(signed_in_as=t["signed_in_as"], name=signed_in.name, id=signed_in.id, lang=lang,
                                 sign_out=t["sign_out"], signed_in_hint=t["signed_in_hint"])
    if roster is None or not roster.technicians:
        forms = Markup('<p class="muted small">{}</p>').format(t["no_roster"])
    else:
        options = join(Markup('<option value="{}">{}</option>').format(tech.id, tech.name)
                       for tech in roster.technicians if tech.pin_hash)
        forms = _SIGN_IN_FORMS.format(lang=lang, options=options, **{key: t[key] for key in (
            "badge", "badge_hint", "technician", "pin", "sign_in_button")})
    return _SIGN_IN.format(
        sign_in=t["sign_in"], not_signed_in=t["not_signed_in"], forms=forms,
        error=Markup('<p class="notice bad" role="alert" id="sign-in-error">{}</p>').format(t.get(error, ""))
        if error else EMPTY)


_LABEL_FORM = Markup("""\
<section class="panel" id="label-form" aria-labelledby="label-form-title">
  <h2 id="label-form-title">{label_form}</h2>
  <p class="muted small">{label_hint}</p>
  {notice}
  {form_error}
  <form method="post" action="/labels?lang={lang}" id="label" novalidate>
    <div class="row">
      <div class="field{instrument_has_error}">
        <label for="f-instrument">{instrument}</label>
        <select id="f-instrument" name="instrument" required {instrument_invalid}>
          {instruments}
        </select>
        {instrument_error}
      </div>
      <div class="field{channel_has_error}">
        <label for="f-channel">{channel}</label>
        <select id="f-channel" name="channel">
          <option value="{any_channel}"{any_selected}>{any_channel_word}</option>
          {channels}
        </select>
        {channel_error}
      </div>
    </div>
    <div class="field{control_has_error}">
      <label for="f-control">{run_kind}</label>
      <select id="f-control" name="control" aria-describedby="h-control{control_described}"{control_invalid}>
        {controls}
      </select>
      <p id="h-control" class="muted small">{run_hint}</p>
      {control_error}
    </div>
    {barcode}
    <div class="row">
      {name}
      <div class="field{category_has_error}">
        <label for="f-category">{category} <span class="req small">({required})</span></label>
        <select id="f-category" name="category" required aria-required="true" {category_invalid}>
          <option value="">{choose}</option>
          {categories}
        </select>
        {category_error}
      </div>
    </div>
    <div class="row">{stall}{supplier}</div>
    <div class="row">{origin}{sample_id}</div>
    <div class="row">{operator}</div>
    <div class="row">{kit_lot}{kit_expiry}</div>
    <button type="submit" class="primary">{submit}</button>
  </form>
</section>""")

_NOTICE = Markup('<p class="notice ok" role="status">{queued_ok}{name} → {instrument} · {channel_word} {channel}</p>')
_OPTION = Markup('<option value="{}"{}>{}</option>')
_SELECTED = Markup(" selected")


def label_form(lang: str, instruments: list[str], values: Mapping[str, str], errors: Mapping[str, str],
               notice: QueuedLabel | None) -> Markup:
    """The form that queues the next sample's label; ``notice`` is the label just queued."""
    t = text_for(lang)

    def has_error(name: str) -> str:
        return " has-error" if errors.get(name) else ""

    def error(name: str, with_id: bool = True) -> Markup:
        if not errors.get(name):
            return EMPTY
        return Markup('<p{} class="error small">{}</p>').format(
            Markup(' id="e-{}"').format(name) if with_id else EMPTY, t.get(errors[name], ""))

    def invalid(name: str) -> Markup:
        return Markup('aria-invalid="true" aria-describedby="e-{}"').format(name) if errors.get(name) else EMPTY

    def option(value: str, selected: bool, word: str) -> Markup:
        return _OPTION.format(value, _SELECTED if selected else EMPTY, word)

    def field(name: str, kind: str = "text", required: bool = False, hint: str | None = None,
              attrs: Markup = EMPTY) -> Markup:
        return form_field(lang, name, values.get(name, ""), errors.get(name), kind, required, hint, attrs)

    control = values.get("control")
    return _LABEL_FORM.format(
        **{key: t[key] for key in ("label_form", "label_hint", "instrument", "channel", "run_kind", "run_hint",
                                   "category", "required", "choose", "submit")},
        lang=lang, any_channel=ANY_CHANNEL, any_channel_word=t["any_channel"],
        notice=EMPTY if notice is None else _NOTICE.format(
            queued_ok=t["queued_ok"], name=notice.label.name, instrument=notice.label.instrument,
            channel_word=t["channel"],
            channel=t["any_channel"] if notice.label.channel is None else notice.label.channel),
        form_error=Markup('<p class="notice bad" role="alert">{}</p>').format(t["err_form"]) if errors else EMPTY,
        instrument_has_error=has_error("instrument"), instrument_invalid=invalid("instrument"),
        instruments=join(option(id, values.get("instrument") == id, id) for id in instruments),
        instrument_error=error("instrument"),
        channel_has_error=has_error("channel"), any_selected=_SELECTED if values.get("channel") in ("", ANY_CHANNEL)
        else EMPTY,
        channels=join(option(c, values.get("channel") == c, c) for c in CHANNEL_CHOICES),
        channel_error=error("channel", with_id=False),
        control_has_error=has_error("control"),
        control_described=" e-control" if errors.get("control") else "",
        control_invalid=Markup(' aria-invalid="true"') if errors.get("control") else EMPTY,
        controls=join(option(code, control == code or (code == "sample" and not control),
                             t.get(f"run_{code}", "")) for code in CONTROLS),
        control_error=error("control"),
        barcode=field("barcode", hint=t["barcode_hint"],
                      attrs=Markup('data-scan inputmode="text" enterkeyhint="next"')),
        name=field("name", required=True),
        category_has_error=has_error("category"), category_invalid=invalid("category"),
        categories=join((option(code, values.get("category") == code, t[f"cat_{code}"]) for code in CATEGORIES),
                        "\n          "),
        category_error=error("category"),
        stall=field("stall"), supplier=field("supplier"), origin=field("origin"), sample_id=field("sample_id"),
        operator=field("operator", required=True),
        kit_lot=field("kit_lot", attrs=Markup('data-scan enterkeyhint="next"')),
        kit_expiry=field("kit_expiry", kind="date"))


_FIELD = Markup("""\
<div class="field{has_error}">
    <label for="f-{name}">{word} <span class="{required_class} small">({required_word})</span></label>
    <input id="f-{name}" name="{name}" type="{kind}" value="{value}" autocomplete="off"{required}{invalid}{described} {attrs}>
    {hint}
    {error}
  </div>""")


def form_field(lang: str, name: str, value: str, error: str | None, kind: str, required: bool, hint: str | None,
               attrs: Markup) -> Markup:
    """One labelled ``<input>`` of the label form, with its hint and its error word (``error`` a text key)."""
    t = text_for(lang)
    described = ""
    if error or hint:
        described = Markup(' aria-describedby="{}{}"').format(
            Markup("e-{}").format(name) if error else EMPTY, Markup(" h-{}").format(name) if hint else EMPTY)
    return _FIELD.format(
        has_error=" has-error" if error else "", name=name, word=t.get(name, ""),
        required_class="req" if required else "muted", required_word=t["required" if required else "optional"],
        kind=kind, value=value, attrs=attrs,
        required=Markup(' required aria-required="true"') if required else EMPTY,
        invalid=Markup(' aria-invalid="true"') if error else EMPTY, described=described,
        hint=Markup('<p id="h-{}" class="hint small">{}</p>').format(name, hint) if hint else EMPTY,
        error=Markup('<p id="e-{}" class="error small">{}</p>').format(name, t.get(error, "")) if error else EMPTY)
