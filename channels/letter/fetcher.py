"""A deny-by-default URL fetcher for WeasyPrint: packaged and brand assets only.

Letters fetch nothing from the file system or the network. URLs under ``ASSET_BASE`` are served
from an in-memory mapping (the packaged fonts plus the brand assets passed in as bytes);
``data:`` URLs are accepted up to a size bound; images over a pixel bound are refused. Anything
else stops the render with :class:`RefusedResource`, so the author sees an error instead of a
letter with a hole in it.
"""

from __future__ import annotations

import base64
import binascii
import io
import mimetypes
import warnings
from collections.abc import Mapping
from importlib import resources
from urllib.parse import unquote, unquote_to_bytes

from PIL import Image
from weasyprint.urls import (  # type: ignore[import-untyped]
    FatalURLFetchingError,
    URLFetcher,
    URLFetcherResponse,
)

ASSET_BASE = "https://assets.hcs.invalid/"
PACKAGED_FONTS = (
    "fonts/LiberationSans-Regular.ttf",
    "fonts/LiberationSans-Bold.ttf",
    "fonts/DejaVuSans.ttf",
)


class RefusedResource(FatalURLFetchingError):  # type: ignore[misc]
    """A letter named a resource it may not use; the render stops."""


def packaged_assets() -> dict[str, bytes]:
    """The fonts shipped inside channels/assets, by their path under ASSET_BASE."""
    root = resources.files("channels") / "assets"
    return {name: root.joinpath(name).read_bytes() for name in PACKAGED_FONTS}


def image_pixels(data: bytes) -> int | None:
    """Width x height of a raster image (from its header only), None if not a raster image."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(io.BytesIO(data)) as image:
                return int(image.width) * int(image.height)
        except Image.DecompressionBombError:
            return 1 << 62
        except (OSError, ValueError, SyntaxError):
            return None


def _decode_data_url(url: str) -> tuple[str, bytes]:
    header, _, payload = url[5:].partition(",")
    media_type = header.split(";")[0] or "text/plain"
    if header.endswith(";base64"):
        return media_type, base64.b64decode(unquote(payload), validate=True)
    return media_type, unquote_to_bytes(payload)


class AssetFetcher(URLFetcher):  # type: ignore[misc]
    """Serves only the given assets and bounded data: URLs; refuses every other URL."""

    def __init__(
        self, assets: Mapping[str, bytes], *, max_data_url_bytes: int, max_image_pixels: int
    ) -> None:
        super().__init__(allowed_protocols=())
        self.assets = dict(assets)
        self.max_data_url_bytes = max_data_url_bytes
        self.max_image_pixels = max_image_pixels

    def fetch(self, url: str, headers: Mapping[str, str] | None = None) -> URLFetcherResponse:
        """The asset's bytes, or RefusedResource."""
        if url.startswith(ASSET_BASE):
            name = unquote(url[len(ASSET_BASE) :].split("?", 1)[0].split("#", 1)[0])
            if name not in self.assets:
                raise RefusedResource(f"no such letter asset: {name}")
            media_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
            return self._respond(url, media_type, self.assets[name])
        if url.startswith("data:"):
            if len(url) > self.max_data_url_bytes:
                raise RefusedResource(f"data: URL over {self.max_data_url_bytes} bytes")
            try:
                media_type, body = _decode_data_url(url)
            except (ValueError, binascii.Error) as exc:
                raise RefusedResource("malformed data: URL") from exc
            return self._respond("data:", media_type, body)
        raise RefusedResource(f"letters may not fetch {url[:200]}")

    def _respond(self, url: str, media_type: str, body: bytes) -> URLFetcherResponse:
        pixels = image_pixels(body) if media_type.startswith("image/") else None
        if pixels is not None and pixels > self.max_image_pixels:
            raise RefusedResource(
                f"image {url[:80]} has {pixels:,} pixels; at most {self.max_image_pixels:,}"
            )
        return URLFetcherResponse(url, body, {"Content-Type": media_type})
