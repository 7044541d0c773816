"""Evidence files for 信用管理 (a proposal's facts, an objection, a repair request or decision).

Only PDFs and JPEG/PNG photos are kept: a photo is re-encoded without its metadata (GPS and
all), a PDF is kept as sent. Files are content-addressed in the archive and served only through
views that check who asks and log each view; the JSON on a proposal or repair names them.
A bad file is refused with the field and the file named, before anything is written.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from archive import documents
from archive.images import PhotoRejected, clean_photo

MAX_FILES = 6
MAX_BYTES = 10 * 1024 * 1024  # a scanned decision or a bank slip; larger is refused, not cut
ACCEPT = "application/pdf,image/jpeg,image/png,.pdf,.jpg,.jpeg,.png"
PDF, JPEG, PNG = b"%PDF-", b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n"


# Each step's file field, named in an error about one of its files and shown beside each file.
LABELS = {
    "proposal": gettext_lazy("证据材料"),
    "objection": gettext_lazy("异议材料"),
    "repair": gettext_lazy("证明材料"),
    "repair-decision": gettext_lazy("审核材料"),
}
OTHER = gettext_lazy("材料")


class EvidenceRejected(ValueError):
    """Why a file was refused, in Chinese, naming the field and the file."""


@dataclass(frozen=True)
class Upload:
    """A file as it came from the form: its name and (at most MAX_BYTES + 1 of) its bytes."""

    name: str
    data: bytes


@dataclass(frozen=True)
class Clean:
    name: str
    content: bytes
    content_type: str


def limits_text() -> str:
    return _("可选，最多 %(n)s 个文件，每个不超过 %(mb)s MB（PDF、JPEG 或 PNG）。") % {
        "n": MAX_FILES,
        "mb": MAX_BYTES // 1048576,
    }


def read_uploads(files: Sequence, *, label: str) -> list[Upload]:
    """Uploaded files (Django's UploadedFile) as Uploads, refusing too many or too large ones
    before their bytes are read."""
    files = [f for f in files if f]
    if len(files) > MAX_FILES:
        raise EvidenceRejected(
            _("%(label)s：最多上传 %(max)s 个文件，您选择了 %(count)s 个。")
            % {"label": label, "max": MAX_FILES, "count": len(files)}
        )
    uploads = []
    for f in files:
        if f.size > MAX_BYTES:
            raise EvidenceRejected(_too_big(label, f.name, f.size))
        uploads.append(Upload(f.name or "文件", f.read(MAX_BYTES + 1)))
    return uploads


def _too_big(label: str, name: str, size: int) -> str:
    return _("%(label)s：文件“%(name)s”有 %(size).1f MB，超过 %(max)s MB 的上限。") % {
        "label": label,
        "name": name,
        "size": size / 1048576,
        "max": MAX_BYTES // 1048576,
    }


def clean(uploads: Iterable[Upload], *, label: str) -> list[Clean]:
    """Each file checked (type by its content, not its name; size); photos re-encoded."""
    uploads = list(uploads)
    if len(uploads) > MAX_FILES:
        raise EvidenceRejected(
            _("%(label)s：最多上传 %(max)s 个文件。") % {"label": label, "max": MAX_FILES}
        )
    cleaned = []
    for upload in uploads:
        name, data = (upload.name or "文件").strip()[:120], upload.data
        if not data:
            raise EvidenceRejected(
                _("%(label)s：文件“%(name)s”是空文件。") % {"label": label, "name": name}
            )
        if len(data) > MAX_BYTES:
            raise EvidenceRejected(_too_big(label, name, len(data)))
        if data.startswith(PDF):
            cleaned.append(Clean(name, data, "application/pdf"))
        elif data.startswith(JPEG) or data.startswith(PNG):
            try:
                image = clean_photo(data, name=name, max_bytes=MAX_BYTES)
            except PhotoRejected as exc:
                raise EvidenceRejected(
                    _("%(label)s：%(error)s") % {"label": label, "error": exc}
                ) from None
            stem = name.rsplit(".", 1)[0] or "照片"
            cleaned.append(Clean(f"{stem}.jpg", image.content, image.content_type))
        else:
            raise EvidenceRejected(
                _("%(label)s：文件“%(name)s”不是 PDF、JPEG 或 PNG 文件。")
                % {"label": label, "name": name}
            )
    return cleaned


def store(cleaned: Iterable[Clean], *, by: str, step: str) -> list[dict]:
    """Keep the files (inside the caller's transaction); the entries to add to `evidence`.
    `by` is who brought them (staff or the subject), `step` when (proposal, objection …)."""
    at = timezone.now().isoformat(timespec="seconds")
    entries = []
    for c in cleaned:
        document = documents.store(c.content, name=c.name, content_type=c.content_type)
        entries.append(
            {
                "file": document.sha256,
                "name": c.name,
                "content_type": c.content_type,
                "size": len(c.content),
                "by": by,
                "step": step,
                "at": at,
            }
        )
    return entries


def files_of(evidence: list) -> list[dict]:
    """The file entries of an evidence list (other entries name a case, an exit …)."""
    return [e for e in evidence or [] if isinstance(e, dict) and e.get("file")]
