"""Making a rendering fit the clinic's part limit (R-3.3, R-3.4): a
patient's data written in GSM-7 look-alikes, then cut, so that it never stops
a message; the worst case of a template made to fit, to refuse at save time
a template whose own text is too long."""

from dataclasses import dataclass

from . import segments
from .placeholder_catalog import limit_of
from .placeholder_parser import parse, tokenize_cached
from .placeholder_render import assemble, clean_value


@dataclass(frozen=True)
class Fitted:
    """A rendering made to fit the clinic's part limit (R-3.3): ``text`` to
    send, its ``info`` (:class:`segments.SegmentInfo`), the names of the
    values written in GSM-7 look-alikes (``lookalike``) and of the values cut
    shorter than their maximum length (``cut``), and whether the text ``fits``.
    """

    text: str
    info: segments.SegmentInfo
    lookalike: tuple
    cut: tuple
    fits: bool


def _capacity(encoding, max_parts):
    if encoding == segments.GSM7:
        single, part = segments.GSM7_SINGLE_LIMIT, segments.GSM7_PART_LIMIT
    else:
        single, part = segments.UCS2_SINGLE_LIMIT, segments.UCS2_PART_LIMIT
    return single if max_parts <= 1 else part * max_parts


def render_to_fit(
    body,
    values,
    limits=None,
    allowed=None,
    max_parts=1,
    smart=False,
    suffix="",
    cut=True,
):
    """Render ``body`` so that a patient's own data never stops the message
    (R-3.3).

    1. Values as they are, each cut to its maximum length (:func:`render`).
    2. When the text needs Unicode or more than ``max_parts`` parts, every
       value that is not plain GSM-7 is written in GSM-7 look-alikes
       (:func:`segments.to_gsm7_lookalike`: ``ô`` → ``o``, ``ç`` → ``c``,
       Arabic script in Latin letters), for this message only, then cut to
       its maximum length.
    3. Still too long (only the template's own text can cause it: a template
       saved under a higher part limit), values are cut further, longest
       first, unless ``cut`` is false.

    ``suffix`` is template text appended after the body (the opt-out mention
    of marketing texts). Returns a :class:`Fitted`; ``fits`` is false only
    when the template's own text does not fit.
    """
    values = values or {}
    max_parts = max(int(max_parts or 1), 1)
    tokens = tokenize_cached(body or "", allowed)
    names = list(dict.fromkeys(text for is_name, text in tokens if is_name))
    limits_of = {name: limit_of(name, limits) for name in names}
    prepared = {
        name: clean_value(values.get(name, ""), limits_of[name]) for name in names
    }

    def measure():
        text = assemble(tokens, prepared) + (suffix or "")
        return text, segments.count(text, smart=smart)

    text, info = measure()
    if info.parts <= max_parts:
        return Fitted(text, info, (), (), True)
    lookalike = []
    for name in names:
        if not segments.is_plain_gsm7(prepared[name]):
            raw = clean_value(values.get(name, ""), 10**6)
            prepared[name] = clean_value(
                segments.to_gsm7_lookalike(raw), limits_of[name]
            )
            lookalike.append(name)
    text, info = measure()
    shortened = []
    while cut and info.parts > max_parts:
        longest = max(names, key=lambda name: len(prepared[name]), default=None)
        if longest is None or not prepared[longest]:
            break
        overflow = max(info.length - _capacity(info.encoding, max_parts), 1)
        prepared[longest] = prepared[longest][:-overflow].rstrip()
        if longest not in shortened:
            shortened.append(longest)
        text, info = measure()
    return Fitted(
        text, info, tuple(lookalike), tuple(shortened), info.parts <= max_parts
    )


# Worst-case filler: one character outside GSM-7 forces Unicode.
UNICODE_FILLER = "ç"


def worst_case_fitted(
    body, limits=None, allowed=None, max_parts=1, smart=False, suffix=""
):
    """The longest message ``body`` can produce once made to fit (R-3.3,
    R-3.4): every placeholder at its maximum length with a value that forces
    Unicode, then written in look-alikes as sending would, never cut further.
    Returns a :class:`Fitted`; a template is refused when ``fits`` is false.
    """
    names = parse(body or "", allowed)
    values = {name: UNICODE_FILLER * limit_of(name, limits) for name in names}
    return render_to_fit(
        body,
        values,
        limits,
        allowed=allowed,
        max_parts=max_parts,
        smart=smart,
        suffix=suffix,
        cut=False,
    )
