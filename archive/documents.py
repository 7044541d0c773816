"""Content-addressed storage: a file's name on disk is its SHA-256, written once, read many.

Files live under MEDIA_ROOT/documents/ab/abcdef…; they are served only through views that
check who asks (never from MEDIA_URL), so a contract is not public because its hash is known.
"""

import hashlib
import os
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse

from archive.client_ip import client_ip
from archive.models import Document, FileAccess


def path_of(sha256: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "documents" / sha256[:2] / sha256


def store(content: bytes, *, name: str, content_type: str) -> Document:
    """Keep `content` (idempotent: storing the same bytes again returns the first record)."""
    digest = hashlib.sha256(content).hexdigest()
    path = path_of(digest)
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(f".{os.getpid()}.part")
        partial.write_bytes(content)
        os.replace(partial, path)  # atomic: a reader never sees half a file
    try:
        with transaction.atomic():
            return Document.objects.create(
                sha256=digest, name=name[:200], content_type=content_type, size=len(content)
            )
    except IntegrityError:
        return Document.objects.get(sha256=digest)


def read(document: Document) -> bytes:
    """The stored bytes, checked against their hash (a changed file is an error, not data)."""
    content = path_of(document.sha256).read_bytes()
    if hashlib.sha256(content).hexdigest() != document.sha256:
        raise ValueError(f"档案文件 {document.sha256[:12]} 与其哈希不符，可能已被改动。")
    return content


def serve(
    request: HttpRequest,
    document: Document,
    *,
    download: bool = False,
    filename: str = "",
    applicant_id: int | None = None,
) -> HttpResponse:
    """The file for a reader the calling view has already let through, with one FileAccess
    row saying who read it, how and from where (staff by account, residents by applicant)."""
    FileAccess.objects.create(
        user=request.user if request.user.is_authenticated else None,
        applicant_id=applicant_id,
        document=document,
        way=FileAccess.Way.DOWNLOAD if download else FileAccess.Way.VIEW,
        path=request.get_full_path()[:300],
        ip=client_ip(request),
    )
    response = HttpResponse(read(document), content_type=document.content_type)
    disposition = "attachment" if download else "inline"
    name = filename or document.name
    response["Content-Disposition"] = f"{disposition}; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response
