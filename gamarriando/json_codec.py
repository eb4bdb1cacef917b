"""JSON through orjson where it gives exactly what the json module and DRF's renderer give.

orjson decodes and encodes in C, several times faster than the json module; on an order list
page the decoding and the rendering were a tenth of the request (docs/benchmarks.md, round 4).
It differs from them in a few places, each handled here or avoided: integers beyond 64 bits
(orjson refuses to write them: DRF's renderer answers instead; it reads them as floats: see
loads), floats (orjson writes 1e-05 as 0.00001 and NaN as null: the renderer is only given to
views whose answers hold no floats, and leaves a Decimal, which DRF turns into one, to DRF),
datetimes (rendered by DRF's own encoder) and U+2028/U+2029 (escaped after encoding, as DRF
does).
"""

import json

import orjson
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.encoders import JSONEncoder

# Datetimes, dates and times go to DRF's encoder (its ISO text with "Z"); str, int, dict and
# list subclasses (Django's choices, DRF's ReturnDict) encode as their base type, as in json.
_OPTIONS = orjson.OPT_PASSTHROUGH_DATETIME
_LINE_SEPARATOR = "\u2028".encode()
_PARAGRAPH_SEPARATOR = "\u2029".encode()


def loads(text: str):
    """Decode JSON text as json.loads does, but for integers beyond 64 bits (read as floats)."""
    # orjson refuses a number that overflows a float (1e400, which jsonb keeps as a 401-digit
    # integer) where json reads it: such text goes to json. A caller whose text
    # may hold a 65-bit integer checks for floats (representations.order_data_from_json).
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


_drf_default = JSONEncoder().default


def _default(value):
    converted = _drf_default(value)
    if isinstance(converted, float):  # a Decimal: orjson would write the float differently
        raise TypeError("left to DRF's renderer")
    return converted


class CompactJSONRenderer(JSONRenderer):
    """DRF's JSONRenderer, byte for byte, encoding with orjson when it can (views without floats)."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if (
            data is None
            or self.ensure_ascii
            or not self.compact
            or self.get_indent(accepted_media_type, renderer_context or {}) is not None
        ):
            return super().render(data, accepted_media_type, renderer_context)
        try:
            encoded = orjson.dumps(data, default=_default, option=_OPTIONS)
        except TypeError:  # orjson.JSONEncodeError: non-str keys, a 65-bit integer, a Decimal
            return super().render(data, accepted_media_type, renderer_context)
        # DRF escapes these two so that the answer is also valid JavaScript; so do we.
        return encoded.replace(_LINE_SEPARATOR, b"\\u2028").replace(
            _PARAGRAPH_SEPARATOR, b"\\u2029"
        )
