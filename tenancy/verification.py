"""Contract verification for anyone (/verify/): are the PDF's signatures intact, who signed and
when, which contract is it, and is this exactly the copy in our archive?"""

import hashlib
from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.utils.translation import gettext

from tenancy.models import Contract

if TYPE_CHECKING:  # pyhanko loads when a PDF is verified, not in every web worker
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko_certvalidator import ValidationContext


@dataclass
class SignatureFinding:
    field: str
    signer: str
    signed_at: datetime | None
    intact: bool  # the signed bytes are unchanged
    trusted: bool  # the certificate chains to a root we trust
    whole_file: bool  # nothing was added after the signature


@dataclass
class Verdict:
    sha256: str
    signatures: list[SignatureFinding] = field(default_factory=list)
    contract: Contract | None = None
    archived_copy: bool = False  # byte for byte the copy the archive holds
    claimed_number: str = ""
    problem: str = ""

    @property
    def valid(self) -> bool:
        return bool(self.signatures) and all(
            s.intact and s.trusted and s.whole_file for s in self.signatures
        )


def _trust() -> "ValidationContext":
    from pyhanko.keys import load_cert_from_pemder
    from pyhanko_certvalidator import ValidationContext

    roots = [
        load_cert_from_pemder(p) for p in settings.ANJU_SIGNING_TRUST_ROOTS if Path(p).exists()
    ]
    return ValidationContext(trust_roots=roots, allow_fetching=False)


def _claimed_number(reader: "PdfFileReader") -> str:
    try:
        keywords = str(reader.trailer["/Info"].get("/Keywords", ""))
    except (KeyError, TypeError, AttributeError):
        return ""
    for word in keywords.replace(",", " ").split():
        if word.startswith("anju-contract:"):
            return word.split(":", 1)[1][:20]
    return ""


def verify(content: bytes) -> Verdict:
    from pyhanko.pdf_utils.misc import PdfReadError
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature

    verdict = Verdict(sha256=hashlib.sha256(content).hexdigest())
    try:
        reader = PdfFileReader(BytesIO(content), strict=False)
        embedded = list(reader.embedded_signatures)
    except (PdfReadError, ValueError, KeyError, TypeError) as exc:
        verdict.problem = gettext("无法读取该文件：不是有效的 PDF（%(error)s）。") % {
            "error": type(exc).__name__
        }
        return verdict
    verdict.claimed_number = _claimed_number(reader)
    context = _trust()
    for signature in embedded:
        try:
            status = validate_pdf_signature(signature, context)
            verdict.signatures.append(
                SignatureFinding(
                    field=signature.field_name,
                    signer=status.signing_cert.subject.human_friendly,
                    signed_at=status.signer_reported_dt,
                    intact=status.intact and status.valid,
                    trusted=status.trusted,
                    whole_file=status.coverage.name == "ENTIRE_FILE",
                )
            )
        except Exception as exc:  # a malformed signature is a finding, not a crash
            verdict.signatures.append(
                SignatureFinding(
                    signature.field_name,
                    gettext("（无法解析：%(error)s）") % {"error": type(exc).__name__},
                    None,
                    False,
                    False,
                    False,
                )
            )
    if not embedded:
        verdict.problem = gettext("该 PDF 没有电子签章。")
    archived = Contract.objects.filter(signed_id=verdict.sha256).first()
    if archived:
        verdict.contract, verdict.archived_copy = archived, True
    elif verdict.claimed_number:
        verdict.contract = Contract.objects.filter(number=verdict.claimed_number).first()
    return verdict
