"""Rendering a template body (R-3.1): every placeholder replaced by its
value, inserted literally and cut to the placeholder's maximum length, or by
a filler at that length for the worst case (R-3.4)."""

import re

from .placeholder_catalog import limit_of
from .placeholder_parser import tokenize, tokenize_cached

_WHITESPACE = re.compile(r"\s+")


def clean_value(value, limit):
    """``value`` as it is written into a body: on one line, at most ``limit``
    characters long."""
    # Odoo gives False for an empty field: it must render as nothing, not
    # as the word "False".
    if value is None or value is False:
        return ""
    text = _WHITESPACE.sub(" ", str(value)).strip()
    if len(text) > limit:
        text = text[:limit].rstrip()
    return text


def render(body, values, limits=None, allowed=None):
    """Substitute every placeholder of ``body`` with its value.

    Values are inserted literally, never interpreted: a value containing
    ``{patient_name}`` or ``<script>`` stays as it is. Whitespace and line
    breaks inside a value collapse to single spaces (a name with a newline
    would otherwise break the layout and cost a character), and the value is
    cut to the placeholder's maximum length, without ellipsis, trailing spaces
    removed. ``limits`` overrides the default maximum lengths; a missing value
    renders as nothing. ``allowed`` is as in :func:`parse`.
    """
    values = values or {}
    tokens = tokenize_cached(body or "", allowed)
    prepared = {
        text: clean_value(values.get(text, ""), limit_of(text, limits))
        for is_name, text in tokens
        if is_name
    }
    return assemble(tokens, prepared)


# After an empty value, a space of the text is dropped when the next text
# starts with one of these (or the text ends): "at {time} {office}." with no
# office reads "at 10:00." rather than "at 10:00 .".
_TIGHT_AFTER_EMPTY = " .,;:!?)"


def assemble(tokens, prepared):
    """The text of ``tokens`` with the ``prepared`` value of each name."""
    result = ""
    for index, (is_name, text) in enumerate(tokens):
        if not is_name:
            result += text
            continue
        value = prepared[text]
        if not value and result.endswith(" "):
            following = tokens[index + 1] if index + 1 < len(tokens) else None
            if following is None or (
                not following[0] and following[1][:1] in _TIGHT_AFTER_EMPTY
            ):
                result = result[:-1]
        result += value
    return result


def worst_case(body, limits=None, filler="X", allowed=None):
    """Render ``body`` with every placeholder at its maximum length.

    Used to refuse templates that could exceed the clinic's part limit
    (R-3.4). The default filler is a GSM-7 character; pass a character outside
    GSM-7 (e.g. ``"ç"``) for the UCS-2 worst case, or ``"€"`` for the GSM-7
    worst case in septets.
    """
    filler = filler or "X"
    rendered = []
    for is_name, text in tokenize(body or "", allowed):
        if is_name:
            limit = limit_of(text, limits)
            rendered.append((filler * limit)[:limit])
        else:
            rendered.append(text)
    return "".join(rendered)
