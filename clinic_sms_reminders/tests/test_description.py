"""The app-store page (R-8.4): every image named in the manifest ``images`` and
every ``<img src>`` of static/description/index.html is a valid PNG file in
static/description, small enough for the store.

Plain pytest tests: no database, no Odoo import."""

import ast
import struct
import zlib
from html.parser import HTMLParser
from pathlib import Path

import pytest

ADDON_DIR = Path(__file__).resolve().parents[1]
DESCRIPTION = ADDON_DIR / "static" / "description"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
MAX_BYTES = 400 * 1024


def _manifest():
    return ast.literal_eval((ADDON_DIR / "__manifest__.py").read_text("utf-8"))


class _ImageSources(HTMLParser):
    def __init__(self):
        super().__init__()
        self.sources = []

    def handle_starttag(self, tag, attrs):
        if tag == "img":
            self.sources.append(dict(attrs).get("src"))


def _index_images():
    parser = _ImageSources()
    parser.feed((DESCRIPTION / "index.html").read_text("utf-8"))
    return parser.sources


def _check_png(path):
    """Signature, chunk CRCs, IHDR first, IEND last, and image data that
    decompresses: a truncated or renamed file fails."""
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG file"
    assert len(data) <= MAX_BYTES, f"{path.name} is {len(data) // 1024} KB"
    offset, chunks, image_data = len(PNG_SIGNATURE), [], b""
    while offset < len(data):
        (length,) = struct.unpack(">I", data[offset : offset + 4])
        kind = data[offset + 4 : offset + 8]
        body = data[offset + 8 : offset + 8 + length]
        (crc,) = struct.unpack(">I", data[offset + 8 + length : offset + 12 + length])
        assert len(body) == length, f"{path.name}: truncated {kind!r} chunk"
        assert zlib.crc32(kind + body) == crc, f"{path.name}: bad CRC in {kind!r}"
        chunks.append(kind)
        if kind == b"IDAT":
            image_data += body
        offset += 12 + length
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND", path.name
    assert image_data, f"{path.name} has no image data"
    zlib.decompress(image_data)
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def test_manifest_images_are_pngs_in_static_description():
    images = _manifest().get("images")
    assert images, "the manifest names no images for the app store"
    for image in images:
        assert image.startswith("static/description/"), image
        path = ADDON_DIR / image
        assert path.is_file(), f"{image} does not exist"
        _check_png(path)


def test_main_image_is_a_screenshot():
    """The first image is the store's banner: a real screen, landscape."""
    first = ADDON_DIR / _manifest()["images"][0]
    width, height = _check_png(first)
    assert width >= 1000 and width > height


@pytest.mark.parametrize("source", _index_images())
def test_index_html_images_are_pngs_in_static_description(source):
    assert source, "an <img> of index.html has no src"
    assert "://" not in source and not source.startswith("/"), (
        f"{source}: images of the description page come from static/description"
    )
    path = DESCRIPTION / source
    assert path.is_file(), f"{source} does not exist in static/description"
    _check_png(path)


def test_index_html_shows_every_manifest_screenshot():
    shown = {f"static/description/{source}" for source in _index_images()}
    assert set(_manifest()["images"]) <= shown
