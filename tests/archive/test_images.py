"""Phone photos are kept without their metadata (a tenant's GPS position stays private) and
anything that is not a photo, or is too big, is refused with a message naming the file."""

import io

import pytest
from PIL import Image

from archive.images import PhotoRejected, clean_photo


def _jpeg_with_gps(size=(640, 480), orientation: int | None = None) -> bytes:
    image = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "PhoneMaker"  # Make
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (33.0, 50.0, 40.0)  # GPSLatitudeRef, GPSLatitude
    gps[3], gps[4] = "E", (115.0, 46.0, 50.0)
    if orientation:
        exif[0x0112] = orientation
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif, comment=b"taken at home")
    return out.getvalue()


def test_gps_and_camera_metadata_are_gone_from_the_kept_photo():
    original = _jpeg_with_gps()
    assert b"PhoneMaker" in original and Image.open(io.BytesIO(original)).getexif()
    kept = clean_photo(original, name="漏水.jpg")
    assert kept.content_type == "image/jpeg"
    reopened = Image.open(io.BytesIO(kept.content))
    assert not reopened.getexif() and "comment" not in reopened.info
    assert b"PhoneMaker" not in kept.content and b"taken at home" not in kept.content
    assert (kept.width, kept.height) == (640, 480)


def test_a_sideways_phone_photo_is_turned_upright_before_its_orientation_tag_is_dropped():
    kept = clean_photo(_jpeg_with_gps((640, 480), orientation=6), name="竖拍.jpg")
    assert (kept.width, kept.height) == (480, 640)


def test_large_photos_are_scaled_down_not_refused():
    kept = clean_photo(_jpeg_with_gps((4000, 3000)), name="大图.jpg")
    assert max(kept.width, kept.height) == 2048


@pytest.mark.parametrize(
    ("data", "says"),
    [
        (b"", "空文件"),
        (b"%PDF-1.7 not a photo", "不是可以识别的照片"),
        (b"GIF89a" + b"\x00" * 40, "不是可以识别的照片"),
    ],
)
def test_what_is_not_a_photo_is_refused_by_name(data, says):
    with pytest.raises(PhotoRejected) as refused:
        clean_photo(data, name="x.bin")
    assert says in str(refused.value) and "“x.bin”" in str(refused.value)


def test_a_gif_is_not_accepted_as_a_photo():
    out = io.BytesIO()
    Image.new("RGB", (10, 10)).save(out, "GIF")
    with pytest.raises(PhotoRejected, match="不是 JPEG、PNG 或 WebP"):
        clean_photo(out.getvalue(), name="动图.gif")


def test_over_the_size_limit_is_refused_with_the_sizes():
    with pytest.raises(PhotoRejected, match="超过 1 MB"):
        clean_photo(
            _jpeg_with_gps((3000, 3000)) + b"\x00" * 1_100_000, name="a.jpg", max_bytes=1048576
        )
