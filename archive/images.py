"""Photos from phones (repairs, inspections, complaints): decoded, checked, re-encoded.

A photo is kept only as pixels we re-encoded ourselves: EXIF (with its GPS position), XMP, IPTC
and comments are dropped, the orientation is applied first so nothing turns sideways, and a file
that is not really a JPEG, PNG or WebP image is refused with a message naming it.
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

MAX_BYTES = 8 * 1024 * 1024  # what a phone camera makes; larger is refused, not shrunk
MAX_PIXELS = 40_000_000  # a decompression bomb is refused before it is decoded
LONG_SIDE = 2048  # kept photos are scaled down to this; enough to see a crack or a meter
ALLOWED = {"JPEG", "PNG", "WEBP", "MPO"}  # MPO: some phones' JPEG with a depth map


class PhotoRejected(ValueError):
    """Why a photo was refused, in Chinese, naming the file (callers show it as is)."""


@dataclass(frozen=True)
class CleanImage:
    content: bytes
    content_type: str
    width: int
    height: int


def clean_photo(data: bytes, *, name: str, max_bytes: int = MAX_BYTES) -> CleanImage:
    """The photo as a fresh JPEG without metadata, or PhotoRejected saying what is wrong with it."""
    if not data:
        raise PhotoRejected(f"照片“{name}”是空文件。")
    if len(data) > max_bytes:
        raise PhotoRejected(
            f"照片“{name}”有 {len(data) / 1048576:.1f} MB，超过 {max_bytes // 1048576} MB 的上限。"
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            kind = probe.format
            if kind not in ALLOWED:
                raise PhotoRejected(f"文件“{name}”不是 JPEG、PNG 或 WebP 照片。")
            if probe.width * probe.height > MAX_PIXELS:
                raise PhotoRejected(f"照片“{name}”的像素过多，无法处理。")
            probe.load()
            image = ImageOps.exif_transpose(probe)
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as exc:
        raise PhotoRejected(f"文件“{name}”不是可以识别的照片。") from exc
    image = image.convert("RGB")
    image.thumbnail((LONG_SIDE, LONG_SIDE))
    out = io.BytesIO()
    # A new image object carries no info dict: nothing of the original's metadata is written.
    Image.frombytes("RGB", image.size, image.tobytes()).save(out, "JPEG", quality=85, optimize=True)
    return CleanImage(out.getvalue(), "image/jpeg", image.width, image.height)
