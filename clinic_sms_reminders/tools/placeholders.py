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

The catalogue of placeholders is :mod:`placeholder_catalog`, reading a body
:mod:`placeholder_parser`, rendering it :mod:`placeholder_render` and making
it fit the clinic's part limit :mod:`placeholder_fit`; this module is their
public interface.
"""

from .placeholder_catalog import (
    EXTRA_PLACEHOLDER_MAX_LENGTH,
    PLACEHOLDER_LABELS,
    PLACEHOLDERS,
)
from .placeholder_fit import UNICODE_FILLER, Fitted, render_to_fit, worst_case_fitted
from .placeholder_parser import PlaceholderError, parse
from .placeholder_render import render, worst_case

__all__ = [
    "EXTRA_PLACEHOLDER_MAX_LENGTH",
    "PLACEHOLDERS",
    "PLACEHOLDER_LABELS",
    "UNICODE_FILLER",
    "Fitted",
    "PlaceholderError",
    "parse",
    "render",
    "render_to_fit",
    "worst_case",
    "worst_case_fitted",
]
