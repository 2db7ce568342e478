"""Named placeholders of SMS template bodies (R-3.1, R-3.2).

A body such as ``"Hello {patient_first_name}, see you on {date} at {time}."``
names the elements it wants; nothing else is ever evaluated. Template bodies
are written by clinic staff and by translators, so any construct that looks
like code (``{{ x }}``, ``${x}``, ``{% if %}``, ``{x.y}``, ``{x|upper}``) is
refused with a sentence saying that only plain names are allowed, instead of
being half-understood. Braces are reserved for placeholders: there is no
escape for a literal brace, which keeps the rule easy to explain at the
reception desk.

Every placeholder has a maximum length so that the worst-case rendering, and
therefore the number of SMS parts, is known when the template is saved
(R-3.4): :func:`worst_case` gives that rendering.
"""

import functools
import re
from dataclasses import dataclass

from . import segments

# Ordered: the editor's "Elements" list shows them in this order.
PLACEHOLDERS = {
    "patient_name": 25,
    "patient_first_name": 20,
    "date": 16,
    "time": 16,
    "practitioner": 22,
    "with_practitioner": 27,
    "office": 5,
    "clinic_name": 30,
    "clinic_phone": 20,
    "service": 30,
    "confirm_keyword": 10,
    "booking_link": 60,
}

PLACEHOLDER_LABELS = {
    "patient_name": "Patient name",
    "patient_first_name": "Patient first name",
    "date": "Date",
    "time": "Time",
    "practitioner": "Practitioner",
    "with_practitioner": "With practitioner (empty without one)",
    "office": "Office",
    "clinic_name": "Clinic name",
    "clinic_phone": "Clinic phone",
    "service": "Service",
    "confirm_keyword": "Confirmation keyword",
    "booking_link": "Booking link",
}

# Placeholders that an integrator allows without giving them a limit still
# need one, otherwise the worst case (and the part count) would be unbounded.
EXTRA_PLACEHOLDER_MAX_LENGTH = 30

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
_WHITESPACE = re.compile(r"\s+")


class PlaceholderError(ValueError):
    """A template body that cannot be rendered safely.

    ``str(error)`` is an English sentence meant for the user (the Odoo layer
    translates it); ``code`` is a stable identifier of the kind of problem,
    ``name`` the offending placeholder name (or ``None``) and ``position`` the
    index in the body where the problem starts.
    """

    def __init__(self, message, name=None, position=None, code="invalid"):
        super().__init__(message)
        self.message = message
        self.name = name
        self.position = position
        self.code = code


def _allowed_names(allowed):
    if allowed is None:
        return list(PLACEHOLDERS)
    if isinstance(allowed, set | frozenset):
        return sorted(allowed)
    return list(dict.fromkeys(allowed))


def _tokenize(body, allowed):
    """Split ``body`` into literal strings and placeholder names.

    Returns a list of ``(is_placeholder, text)`` pairs; raises
    :class:`PlaceholderError` at the first problem so the user sees where it is.
    """
    allowed_names = _allowed_names(allowed)
    allowed_set = set(allowed_names)
    tokens = []
    literal_start = 0
    index = 0
    length = len(body)
    while index < length:
        char = body[index]
        if char == "}":
            raise PlaceholderError(
                f"The closing brace at position {index + 1} has no opening brace. "
                "Braces are only used around placeholders such as {patient_name}.",
                position=index,
                code="stray_brace",
            )
        if char != "{":
            index += 1
            continue
        if index > 0 and body[index - 1] == "$":
            raise _code_like_error(body, index - 1)
        if index + 1 < length and body[index + 1] in "{%#":
            raise _code_like_error(body, index)
        close = body.find("}", index + 1)
        next_open = body.find("{", index + 1)
        if close == -1 or (next_open != -1 and next_open < close):
            raise PlaceholderError(
                f"The opening brace at position {index + 1} is not closed. "
                "Braces are only used around placeholders such as {patient_name}.",
                position=index,
                code="unclosed_brace",
            )
        content = body[index + 1 : close]
        name = _check_name(content, index, allowed_names, allowed_set)
        if literal_start < index:
            tokens.append((False, body[literal_start:index]))
        tokens.append((True, name))
        index = close + 1
        literal_start = index
    if literal_start < length:
        tokens.append((False, body[literal_start:]))
    return tokens


@functools.lru_cache(maxsize=256)
def _cached_tokens(body, allowed):
    return tuple(_tokenize(body, allowed))


def _tokens(body, allowed):
    """:func:`_tokenize`, remembered for the few bodies a batch renders
    thousands of times (only when ``allowed`` can be a cache key)."""
    if allowed is None or isinstance(allowed, tuple | frozenset):
        return _cached_tokens(body, allowed)
    return _tokenize(body, allowed)


def _code_like_error(body, position):
    snippet = body[position : position + 12]
    return PlaceholderError(
        f'"{snippet}" at position {position + 1} looks like code. Only plain '
        "placeholder names such as {patient_name} are allowed; expressions, "
        "filters and template tags are never evaluated.",
        position=position,
        code="code_like",
    )


def _check_name(content, position, allowed_names, allowed_set):
    if not content:
        raise PlaceholderError(
            f"Empty braces {{}} at position {position + 1}. Write a placeholder "
            "name inside, such as {patient_name}.",
            position=position,
            code="empty",
        )
    if not _NAME.match(content):
        stripped = content.strip()
        if stripped != content and _NAME.match(stripped):
            raise PlaceholderError(
                f'Remove the spaces inside "{{{content}}}": write {{{stripped}}}.',
                name=stripped,
                position=position,
                code="spaces",
            )
        raise PlaceholderError(
            f'"{{{content}}}" at position {position + 1} is not a placeholder. '
            "Only plain placeholder names such as {patient_name} are allowed; "
            "expressions, attributes and filters are never evaluated.",
            name=content,
            position=position,
            code="code_like",
        )
    if content not in allowed_set:
        choices = ", ".join(f"{{{name}}}" for name in allowed_names)
        raise PlaceholderError(
            f'Unknown placeholder "{{{content}}}". Use one of: {choices}.',
            name=content,
            position=position,
            code="unknown",
        )
    return content


def parse(body, allowed=None):
    """Return the placeholder names used in ``body``, in order of appearance.

    ``allowed`` is the collection of accepted names (default: the keys of
    :data:`PLACEHOLDERS`; integrators may pass a larger one). Raises
    :class:`PlaceholderError` for unknown names, stray or unclosed braces,
    empty braces and anything that looks like code, so that a template is
    refused when it is saved rather than failing when it is sent.
    """
    return [text for is_name, text in _tokenize(body or "", allowed) if is_name]


def _limit_of(name, limits):
    limit = limits.get(name) if limits else None
    if limit is None or limit is False:
        limit = PLACEHOLDERS.get(name, EXTRA_PLACEHOLDER_MAX_LENGTH)
    return max(int(limit), 0)


def _clean_value(value, limit):
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
    tokens = _tokens(body or "", allowed)
    prepared = {
        text: _clean_value(values.get(text, ""), _limit_of(text, limits))
        for is_name, text in tokens
        if is_name
    }
    return _assemble(tokens, prepared)


# After an empty value, a space of the text is dropped when the next text
# starts with one of these (or the text ends): "at {time} {office}." with no
# office reads "at 10:00." rather than "at 10:00 .".
_TIGHT_AFTER_EMPTY = " .,;:!?)"


def _assemble(tokens, prepared):
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
    tokens = _tokens(body or "", allowed)
    names = list(dict.fromkeys(text for is_name, text in tokens if is_name))
    limits_of = {name: _limit_of(name, limits) for name in names}
    prepared = {
        name: _clean_value(values.get(name, ""), limits_of[name]) for name in names
    }

    def measure():
        text = _assemble(tokens, prepared) + (suffix or "")
        return text, segments.count(text, smart=smart)

    text, info = measure()
    if info.parts <= max_parts:
        return Fitted(text, info, (), (), True)
    lookalike = []
    for name in names:
        if not segments.is_plain_gsm7(prepared[name]):
            raw = _clean_value(values.get(name, ""), 10**6)
            prepared[name] = _clean_value(
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
    values = {name: UNICODE_FILLER * _limit_of(name, limits) for name in names}
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


def worst_case(body, limits=None, filler="X", allowed=None):
    """Render ``body`` with every placeholder at its maximum length.

    Used to refuse templates that could exceed the clinic's part limit
    (R-3.4). The default filler is a GSM-7 character; pass a character outside
    GSM-7 (e.g. ``"ç"``) for the UCS-2 worst case, or ``"€"`` for the GSM-7
    worst case in septets.
    """
    filler = filler or "X"
    rendered = []
    for is_name, text in _tokenize(body or "", allowed):
        if is_name:
            limit = _limit_of(text, limits)
            rendered.append((filler * limit)[:limit])
        else:
            rendered.append(text)
    return "".join(rendered)
