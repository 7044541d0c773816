"""Writing one batch ZIP to disk: folders of stored files copied in chunks with their hashes
checked on the way, a 索引.pdf per folder (WeasyPrint) and `manifest.sha256` at the root.

Nothing grows in memory with the batch: the manifest and the list of files read go to
temporary files, and the index PDFs share one font configuration.
"""

import hashlib
import mimetypes
import os
import re
import shutil
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import suppress
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import IO

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.translation import gettext as _

from archive.documents import path_of
from archive.models import Document
from archive.pdf_resources import inline_only
from insights import dossiers

INDEX_STYLE = Path(__file__).with_name("batch_index.css")
CHUNK = 1024 * 1024
INDEX_NAME = "索引.pdf"
MANIFEST_NAME = "manifest.sha256"
# Already compressed: stored as they are (deflating them again costs time and saves nothing).
COMPRESSED = {"application/pdf", "image/jpeg", "image/png", "image/webp", "application/zip"}
UNSAFE = re.compile(r"[\x00-\x1f\x7f\\/:*?\"<>|\s]+")


class BatchError(ValueError):
    """A selection or a job refused, in Chinese, naming what was wrong (one message per fault)."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("；".join(self.problems))


def safe_name(text: str, limit: int = 60) -> str:
    """A file or folder name readable on every system: no separators, controls or spaces."""
    return UNSAFE.sub("_", text).strip("._")[:limit] or "_"


def _extension(document: Document) -> str:
    suffix = Path(document.name).suffix.lower()
    if re.fullmatch(r"\.[a-z0-9]{1,5}", suffix):
        return suffix
    return mimetypes.guess_extension(document.content_type) or ".bin"


def _zip_time(moment: datetime | None) -> tuple[int, int, int, int, int, int]:
    local = timezone.localtime(moment) if moment else timezone.localtime()
    return max(local.timetuple()[:6], (1980, 1, 1, 0, 0, 0))


class _Hashing:
    """A file read through SHA-256, so a copy checks what it copied in the same pass."""

    def __init__(self, raw: IO[bytes]):
        self.raw, self.digest = raw, hashlib.sha256()

    def read(self, size: int = -1) -> bytes:
        chunk = self.raw.read(size)
        self.digest.update(chunk)
        return chunk


class Writer:
    """One ZIP on disk and its manifest (a temporary file: nothing grows in memory)."""

    def __init__(self, path: Path, limit: int):
        self.limit = limit
        self.raw = open(path, "wb")  # noqa: SIM115 (closed by __exit__)
        self.zip = zipfile.ZipFile(self.raw, "w", allowZip64=True)
        self.manifest = tempfile.TemporaryFile()  # noqa: SIM115 (closed by __exit__)
        self.read = tempfile.TemporaryFile()  # noqa: SIM115 (one sha256 a line per document)

    def __enter__(self) -> "Writer":
        return self

    def __exit__(self, *exc) -> None:
        with suppress(ValueError, OSError):  # after a failure the partial file is removed
            self.zip.close()
        self.raw.close()
        self.manifest.close()
        self.read.close()

    @property
    def written(self) -> int:
        return self.raw.tell()

    def _room_for(self, size: int) -> None:
        if self.raw.tell() + size > self.limit:
            raise BatchError(
                _("压缩包将超过 %(limit)s 的大小限制，已停止生成，请缩小范围后重试。")
                % {"limit": size_text(self.limit)}
            )

    def _entry(self, name: str, at: datetime | None, compress: bool) -> zipfile.ZipInfo:
        info = zipfile.ZipInfo(name, date_time=_zip_time(at))
        info.compress_type = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        return info

    def add_bytes(self, name: str, content: bytes, at: datetime | None = None) -> None:
        self._room_for(len(content))
        self.zip.writestr(self._entry(name, at, compress=False), content)
        self._note(hashlib.sha256(content).hexdigest(), name)

    def add_document(self, name: str, document: Document, at: datetime) -> None:
        """Copied in chunks from the store, its hash checked in the same pass."""
        self._room_for(document.size)
        info = self._entry(name, at, compress=document.content_type not in COMPRESSED)
        try:
            source = open(path_of(document.sha256), "rb")  # noqa: SIM115 (closed below)
        except FileNotFoundError:
            raise BatchError(
                _("档案文件 %(sha)s（%(name)s）在存储中缺失。")
                % {"sha": document.sha256[:12], "name": document.name}
            ) from None
        reader = _Hashing(source)
        with source, self.zip.open(info, "w", force_zip64=document.size > 2**31) as target:
            shutil.copyfileobj(reader, target, CHUNK)
        if reader.digest.hexdigest() != document.sha256:
            raise BatchError(
                _("档案文件 %(sha)s（%(name)s）与其哈希不符，可能已被改动。")
                % {"sha": document.sha256[:12], "name": document.name}
            )
        self._note(document.sha256, name)
        self.read.write(f"{document.sha256}\n".encode())

    def _note(self, sha256: str, name: str) -> None:
        self.manifest.write(f"{sha256}  {name}\n".encode())

    def seal(self) -> None:
        """The manifest last, then the central directory; the file is on disk when this ends."""
        self.manifest.seek(0)
        with self.zip.open(self._entry(MANIFEST_NAME, None, compress=True), "w") as target:
            shutil.copyfileobj(self.manifest, target, CHUNK)
        self.zip.close()
        self.raw.flush()
        os.fsync(self.raw.fileno())
        self.raw.close()

    def documents_read(self) -> Iterator[str]:
        self.read.seek(0)
        for line in self.read:
            yield line.decode().strip()


def size_text(n: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return str(n)


@cache
def _fonts():
    """One font configuration for every index a process renders: a fresh one per document
    leaks a little native memory each time, which a batch of a thousand would feel."""
    from weasyprint.text.fonts import FontConfiguration

    return FontConfiguration()


@cache
def _style():
    from weasyprint import CSS

    return CSS(filename=str(INDEX_STYLE), font_config=_fonts())


def _index_pdf(
    dossier: dossiers.Dossier, files: list[dict], since: date | None, until: date | None
) -> bytes:
    from weasyprint import HTML  # heavy: only the worker loads it

    page = render_to_string(
        "insights/batch_index.html",
        {
            "dossier": dossier,
            "kind": _("一房一档") if dossier.kind == "unit" else _("一户一档"),
            "files": files,
            "since": since,
            "until": until,
            "made_at": timezone.localtime(),
        },
    )
    return HTML(string=page, url_fetcher=inline_only()).write_pdf(
        stylesheets=[_style()], font_config=_fonts()
    )


def add_folder(
    writer: Writer,
    folder: str,
    dossier: dossiers.Dossier,
    since: date | None = None,
    until: date | None = None,
) -> None:
    """索引.pdf first (it names the files that follow), then the files in time order."""
    files = []
    for n, ref in enumerate(dossier.files, 1):
        name = f"{n:03d}_{safe_name(str(ref.label))}{_extension(ref.document)}"
        files.append({"name": name, "ref": ref, "sha256": ref.document.sha256})
    writer.add_bytes(f"{folder}/{INDEX_NAME}", _index_pdf(dossier, files, since, until))
    for item in files:
        ref = item["ref"]
        writer.add_document(f"{folder}/{item['name']}", ref.document, ref.at)
