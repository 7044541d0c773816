"""Uploads bounded before anything reads them (issue 10, item 6): the file's size, what a zip
(an XLSX too) expands to and how many files it holds; abandoned previews removed; and no
message that shows where the server keeps its files."""

import io
import os
import struct
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest
from django.conf import settings
from django.urls import reverse
from openpyxl import Workbook

from geo.models import Estate, Region
from geo.stock_import import StockFileError, plan_stock_file

pytestmark = pytest.mark.django_db

QIAOCHENG_POINT = (115.790, 33.860)


@pytest.fixture(autouse=True)
def own_media_root(settings, tmp_path):
    """Uploads of this module in a folder of their own, so counting them counts only ours."""
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def clerk(cast):
    return cast.users["district"]


@pytest.fixture
def staff_client(client, clerk):
    client.force_login(clerk)
    return client


def imports_dir() -> Path:
    return Path(settings.MEDIA_ROOT) / "imports"


def pending_files() -> list[Path]:
    return sorted(imports_dir().glob("*")) if imports_dir().exists() else []


def plan_for(user, path: Path):
    return plan_stock_file(
        path,
        "wgs84",
        visible_estates=Estate.objects.visible_to(user),
        districts_in_scope=Region.objects.filter(level="district", adcode="341602"),
    )


def csv_bytes(estate: str = "上传限制家园", n: int = 2) -> bytes:
    table = pd.DataFrame(
        [
            {
                "项目名称": estate,
                "地址": "谯城区测试路9号",
                "楼号": "1号楼",
                "房号": f"{i + 1}01",
                "楼层": i + 1,
                "室": 2,
                "面积": "50",
                "月租金": "500",
                "经度": QIAOCHENG_POINT[0],
                "纬度": QIAOCHENG_POINT[1],
            }
            for i in range(n)
        ]
    )
    return table.to_csv(index=False).encode("utf-8-sig")


def lying_zip(path: Path, declared: int) -> Path:
    """A zip of a few bytes whose directory says its member expands to `declared` bytes."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("stock.geojson", b"{}")
    data = bytearray(path.read_bytes())
    struct.pack_into("<I", data, 22, declared)  # local header: uncompressed size
    central = data.find(b"PK\x01\x02")
    struct.pack_into("<I", data, central + 24, declared)  # central directory: the same
    path.write_bytes(bytes(data))
    return path


def post(client, name: str, content: bytes):
    upload = io.BytesIO(content)
    upload.name = name
    return client.post(reverse("asset-import"), {"file": upload, "crs": "wgs84"})


# --- zip bombs --------------------------------------------------------------------------------


def test_a_zip_declaring_gigabytes_is_refused_before_reading(clerk, tmp_path):
    path = lying_zip(tmp_path / "bomb.zip", 1_600 * 1024 * 1024)  # the 1.6 GB of the report
    assert path.stat().st_size < 1024
    started = time.perf_counter()
    with pytest.raises(StockFileError, match="解压后有 1600 MB，超过上限 200 MB"):
        plan_for(clerk, path)
    assert time.perf_counter() - started < 1


def test_a_real_bomb_is_refused_quickly_and_writes_nothing(staff_client, settings, tmp_path):
    settings.ANJU_UPLOAD_MAX_UNZIPPED_BYTES = 1024 * 1024
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("stock.geojson", b" " * (8 * 1024 * 1024))  # really expands to 8 MB
    assert len(buffer.getvalue()) < 20 * 1024
    started = time.perf_counter()
    response = post(staff_client, "bomb.zip", buffer.getvalue())
    assert time.perf_counter() - started < 2
    html = response.content.decode()
    assert "压缩文件解压后有 8 MB，超过上限 1 MB" in html and "确认导入" not in html
    assert pending_files() == []
    assert not Estate.objects.filter(name="上传限制家园").exists()


def test_a_zip_with_too_many_files_is_refused(clerk, tmp_path):
    path = tmp_path / "many.zip"
    with zipfile.ZipFile(path, "w") as archive:
        for i in range(settings.ANJU_UPLOAD_MAX_ZIP_MEMBERS + 1):
            archive.writestr(f"part{i}.txt", b"x")
    with pytest.raises(StockFileError, match="201 个文件，超过上限 200 个"):
        plan_for(clerk, path)


def test_a_zip_inside_a_zip_is_refused(clerk, tmp_path):
    inner = io.BytesIO()
    with zipfile.ZipFile(inner, "w") as archive:
        archive.writestr("stock.geojson", b"{}")
    path = tmp_path / "nested.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("inner.zip", inner.getvalue())
    with pytest.raises(StockFileError, match=r"不能再含压缩文件（inner\.zip）"):
        plan_for(clerk, path)


def test_an_xlsx_is_a_zip_and_is_measured_before_openpyxl_reads_it(clerk, settings, tmp_path):
    settings.ANJU_UPLOAD_MAX_UNZIPPED_BYTES = 1024 * 1024
    path = tmp_path / "bomb.xlsx"
    book = Workbook()
    book.active.append(["项目名称", "经度", "纬度"])
    book.save(path)
    with zipfile.ZipFile(path, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b"\0" * (4 * 1024 * 1024))
    with pytest.raises(StockFileError, match="超过上限 1 MB"):
        plan_for(clerk, path)


def test_a_small_xlsx_and_a_shapefile_zip_still_pass_the_checks(clerk, tmp_path):
    from geo.models import Unit
    from geo.stock_export import export_stock

    first = Unit.objects.filter(building__estate__district__adcode="341602").order_by("pk")
    units = Unit.objects.filter(pk__in=list(first.values_list("pk", flat=True)[:5]))
    for fmt in ("xlsx", "shp"):
        plan = plan_for(clerk, export_stock(units, fmt))
        assert plan.row_count == 5


# --- the file's own size ----------------------------------------------------------------------


def test_a_file_over_the_upload_limit_is_refused_and_not_stored(staff_client, settings):
    settings.ANJU_UPLOAD_MAX_BYTES = 1024
    content = csv_bytes(n=40)
    assert len(content) > 1024
    html = post(staff_client, "big.csv", content).content.decode()
    assert "超过上限" in html and "确认导入" not in html
    assert pending_files() == []


def test_a_request_body_over_the_limit_is_refused_before_it_is_read(staff_client, settings):
    settings.ANJU_REQUEST_MAX_BYTES = 4096
    response = post(staff_client, "big.csv", b"x" * 10_000)
    assert response.status_code == 413
    assert "过大" in response.content.decode()


# --- previews that were never confirmed -------------------------------------------------------


def test_abandoned_previews_are_removed_when_an_import_starts(staff_client, settings):
    html = post(staff_client, "keep.csv", csv_bytes("预览家园")).content.decode()
    assert "确认导入" in html
    (waiting,) = pending_files()
    token = html.split('name="token" value="')[1].split('"')[0]
    assert token == waiting.name
    age = settings.ANJU_IMPORT_PLAN_MAX_AGE_SECONDS + 60
    os.utime(waiting, (time.time() - age, time.time() - age))
    fresh = post(staff_client, "fresh.csv", csv_bytes("新预览家园")).content.decode()
    assert "确认导入" in fresh
    assert not waiting.exists(), "the abandoned preview is gone"
    assert len(pending_files()) == 1, "the fresh one waits for its confirmation"
    done = staff_client.post(
        reverse("asset-import-commit"), {"token": token, "crs": "wgs84"}, follow=True
    )
    assert "上传的文件已失效" in done.content.decode()
    assert not Estate.objects.filter(name="预览家园").exists()


def test_an_expired_preview_cannot_be_committed(staff_client, settings):
    html = post(staff_client, "late.csv", csv_bytes("迟到家园")).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    (waiting,) = pending_files()
    age = settings.ANJU_IMPORT_PLAN_MAX_AGE_SECONDS + 1
    os.utime(waiting, (time.time() - age, time.time() - age))
    done = staff_client.post(
        reverse("asset-import-commit"), {"token": token, "crs": "wgs84"}, follow=True
    )
    assert "上传的文件已失效" in done.content.decode()
    assert pending_files() == [] and not Estate.objects.filter(name="迟到家园").exists()


def test_a_commit_with_an_unknown_crs_is_refused_not_a_500(staff_client):
    html = post(staff_client, "crs.csv", csv_bytes("坐标家园")).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    response = staff_client.post(reverse("asset-import-commit"), {"token": token, "crs": "x"})
    assert response.status_code == 403


def test_a_committed_preview_leaves_nothing_behind(staff_client):
    html = post(staff_client, "ok.csv", csv_bytes("提交家园")).content.decode()
    token = html.split('name="token" value="')[1].split('"')[0]
    staff_client.post(reverse("asset-import-commit"), {"token": token, "crs": "wgs84"})
    assert Estate.objects.filter(name="提交家园").exists()
    assert pending_files() == []


# --- messages without server paths -----------------------------------------------------------


def _broken_files(tmp_path: Path) -> dict[str, bytes]:
    good_zip = io.BytesIO()
    with zipfile.ZipFile(good_zip, "w") as archive:
        archive.writestr("stock.shp", b"not a shapefile" * 10)
        archive.writestr("stock.dbf", b"\0" * 10)
    return {
        "truncated.zip": good_zip.getvalue()[:40],
        "junk.zip": good_zip.getvalue(),
        "liar.zip": lying_zip(tmp_path / "liar.zip", 100).read_bytes(),
        "junk.gpkg": b"SQLite format 3\0" + b"\x01" * 200,
        "junk.geojson": b'{"type": "FeatureCollection", "features": [',
        "junk.kml": b"<kml><Document><Placemark>",
        "junk.xlsx": b"PK\x03\x04 not really a workbook",
        "junk.csv": b"\xff\xfe\x00\x00" + os.urandom(300),
    }


def test_messages_about_broken_files_show_no_server_paths(staff_client, tmp_path):
    secrets = {"/tmp", "/work", str(settings.MEDIA_ROOT), str(settings.BASE_DIR), str(tmp_path)}
    for name, content in _broken_files(tmp_path).items():
        response = post(staff_client, name, content)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert "确认导入" not in html, name
        leaked = [s for s in secrets if s in html]
        assert not leaked, f"{name}: {leaked}"
    assert pending_files() == []


def test_reader_errors_are_stripped_of_paths(clerk, tmp_path):
    path = tmp_path / "deep" / "dir" / "junk.geojson"
    path.parent.mkdir(parents=True)
    path.write_text("{not json")
    with pytest.raises(StockFileError) as caught:
        plan_for(clerk, path)
    assert str(tmp_path) not in str(caught.value) and "/deep/" not in str(caught.value)
