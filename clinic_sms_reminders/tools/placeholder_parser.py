"""Reading a template body (R-3.1, R-3.2): literal text and plain
placeholder names, nothing else. Anything that looks like code, a stray or
unclosed brace or an unknown name is refused with a sentence saying where and
why, so that a template fails when it is saved, never when it is sent."""

import functools
import re

from .placeholder_catalog import PLACEHOLDERS

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


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


def tokenize(body, allowed):
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
    return tuple(tokenize(body, allowed))


def tokenize_cached(body, allowed):
    """:func:`tokenize`, remembered for the few bodies a batch renders
    thousands of times (only when ``allowed`` can be a cache key)."""
    if allowed is None or isinstance(allowed, tuple | frozenset):
        return _cached_tokens(body, allowed)
    return tokenize(body, allowed)


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
    return [text for is_name, text in tokenize(body or "", allowed) if is_name]
