"""HTML fragments drawn both into the page and into live events: a result row and the instrument cards.

Plain functions over ``markupsafe``: a template is a ``Markup`` string, and ``Markup.format`` escapes every
value that is not itself ``Markup``, so text from instruments, labels and the LIMS cannot become markup.
"""

from __future__ import annotations

from collections.abc import Iterable

from markupsafe import Markup

from ..label_store import QueuedLabel
from ._text import text_for
from ._views import InstrumentCard, ResultRow

EMPTY = Markup("")


def join(parts: Iterable[Markup | str], separator: str = "") -> Markup:
    """``parts`` one after the other (text among them escaped)."""
    return Markup(separator).join(parts)


_ROW = Markup("""\
<tr id="r{seq}" class="result verdict-{verdict}{unlabelled_class}" data-seq="{seq}">
  <td class="time">{time}</td>
  <td>{instrument}{channel}</td>
  <td class="sample">
    {unlabelled}
    {name}
    {detail}
  </td>
  <td>{item}</td>
  <td class="num">{value}</td>
  <td><span class="verdict verdict-badge-{verdict}">{verdict_word}</span></td>
  <td class="flags">{flags}</td>
  <td>{operator}</td>
</tr>""")


def result_row(r: ResultRow, lang: str) -> Markup:
    """The ``<tr>`` of one result in ``lang``."""
    t = text_for(lang)
    flags = [Markup('<span class="badge">{}</span> ').format(t.get(key, "")) for key in r.flag_keys
             if key != "unlabelled"]
    flags += [Markup('<span class="badge badge-plain">{}</span> ').format(flag) for flag in r.other_flags]
    return _ROW.format(
        seq=r.seq, verdict=r.verdict, unlabelled_class=" is-unlabelled" if r.unlabelled else "",
        time=r.time, instrument=r.instrument,
        channel=EMPTY if r.channel is None
        else Markup(' <span class="muted">· {} {}</span>').format(t["channel"], r.channel),
        unlabelled=Markup('<span class="badge badge-unlabelled">{}</span>').format(t["unlabelled"])
        if r.unlabelled else EMPTY,
        name=Markup('<span class="sample-name">{}</span>').format(r.sample_name) if r.sample_name else EMPTY,
        detail=Markup('<div class="muted small">{}</div>').format(r.sample_detail) if r.sample_detail else EMPTY,
        item=r.item, value=r.value, verdict_word=t.get(f"verdict_{r.verdict}", ""), flags=join(flags),
        operator=r.operator)


_CARD = Markup("""
<article class="card" id="instrument-{id}" aria-labelledby="instrument-{id}-name">
  <header class="card-head">
    <h3 id="instrument-{id}-name">{id}</h3>
    <span class="state state-{state}">{state_word}</span>
  </header>
  {last_error}
  <p class="muted small">{driver} · {results_count} {results}{last_result}</p>
  {calibration}
  <h4 class="small">{queued_title}</h4>
  {queued}
</article>
""")

_CALIBRATION = Markup("""\
<p class="calibration small calibration-{state}" data-calibration="{state}">{due_word} \
<time datetime="{due}">{due}</time>{warning}</p>""")

_QUEUE = Markup("""
  <ol class="queue">
    {items}
  </ol>
""")

_QUEUED_LABEL = Markup("""
    <li class="queued-label" data-label-id="{id}">
      <span><strong>{channel_word} {channel}</strong>:
        {control}{name}{stall} · {operator}</span>
      <form method="post" action="/labels/{id}/cancel?lang={lang}">
        <button type="submit" class="secondary" aria-label="{cancel} {name}">{cancel}</button>
      </form>
    </li>
    """)


def instrument_list(cards: list[InstrumentCard], lang: str) -> Markup:
    """The instrument cards in ``lang`` (a line saying there are none when ``cards`` is empty)."""
    t = text_for(lang)
    none = Markup("<p>{}</p>").format(t["no_instruments"]) if not cards else EMPTY
    return none + "\n" + join(_card(card, lang) for card in cards)


def _card(card: InstrumentCard, lang: str) -> Markup:
    """One instrument's card: state, link error, counts, calibration, queued labels with their withdraw buttons."""
    t = text_for(lang)
    return _CARD.format(
        id=card.id, state=card.state, state_word=t.get(f"state_{card.state}", ""),
        last_error=Markup('<p class="link-error small" data-link-error>{}</p>').format(card.last_error)
        if card.last_error else EMPTY,
        driver=card.driver, results_count=t["results_count"], results=card.results,
        last_result=Markup(" · {} {}").format(t["last_result"], card.last_result) if card.last_result else EMPTY,
        calibration=_calibration(card, lang) if card.calibration_due else EMPTY,
        queued_title=t["queued"],
        queued=_QUEUE.format(items=join(_queued_label(item, lang) for item in card.queued)) if card.queued
        else Markup('<p class="muted small">{}</p>').format(t["none_queued"]))


def _calibration(card: InstrumentCard, lang: str) -> Markup:
    """The calibration due date, with a warning once it is overdue or near."""
    t = text_for(lang)
    if card.calibration == "overdue":
        warning = Markup(' <strong class="badge badge-overdue"><span aria-hidden="true">⚠ </span>{}</strong>').format(
            t["calibration_overdue_warning"])
    elif card.calibration == "due_soon":
        warning = Markup(' <strong class="badge">{}</strong>').format(t["calibration_due_soon"])
    else:
        warning = EMPTY
    return _CALIBRATION.format(state=card.calibration, due_word=t["calibration_due"], due=card.calibration_due,
                               warning=warning)


def _queued_label(item: QueuedLabel, lang: str) -> Markup:
    """A label waiting for its result, with the button that withdraws it."""
    t, label = text_for(lang), item.label
    return _QUEUED_LABEL.format(
        id=item.id, lang=lang, channel_word=t["channel"],
        channel=t["any_channel"] if label.channel is None else label.channel,
        control=Markup('<span class="badge">{}</span> ').format(t.get(f"run_{label.control}", ""))
        if label.control != "sample" else EMPTY,
        name=label.name, stall=Markup(" · {}").format(label.stall) if label.stall else EMPTY,
        operator=label.operator, cancel=t["cancel"])
