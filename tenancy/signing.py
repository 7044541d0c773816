"""PAdES signatures on contracts through one interface, so a real CA's signing service can
replace the local PKCS#12 signer by setting ANJU_CONTRACT_SIGNER to another class."""

from dataclasses import dataclass
from io import BytesIO
from pathlib import Path
from typing import Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string


@dataclass(frozen=True)
class SignRequest:
    field_name: str
    reason: str
    location: str
    contact: str = ""


class ContractSigner(Protocol):
    """Signs PDF bytes and returns the signed PDF (an incremental update of the input)."""

    def sign(self, pdf: bytes, request: SignRequest) -> bytes: ...


class Pkcs12Signer:
    """The organisation's key and certificate from a PKCS#12 file; a timestamp from an RFC 3161
    authority when ANJU_SIGNING_TSA_URL is set."""

    def __init__(self, path: str | None = None, passphrase: str | None = None):
        # pyhanko (~37 MB) loads when a contract is signed, not in every web worker.
        from pyhanko.sign import signers, timestamps

        path = path or settings.ANJU_SIGNING_P12_FILE
        if not path or not Path(path).exists():
            raise ImproperlyConfigured(
                "合同签章证书未配置：请设置 ANJU_SIGNING_P12_FILE（开发环境由 make 生成）。"
            )
        secret = passphrase if passphrase is not None else settings.ANJU_SIGNING_P12_PASSPHRASE
        self.signer = signers.SimpleSigner.load_pkcs12(
            pfx_file=path, passphrase=secret.encode() if secret else None
        )
        if self.signer is None:
            raise ImproperlyConfigured("合同签章证书无法读取：请检查 PKCS#12 文件与口令。")
        url = settings.ANJU_SIGNING_TSA_URL
        self.timestamper = timestamps.HTTPTimeStamper(url) if url else None

    def sign(self, pdf: bytes, request: SignRequest) -> bytes:
        from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
        from pyhanko.sign import signers
        from pyhanko.sign.fields import SigSeedSubFilter

        meta = signers.PdfSignatureMetadata(
            field_name=request.field_name,
            subfilter=SigSeedSubFilter.PADES,
            md_algorithm="sha256",
            reason=request.reason,
            location=request.location,
            contact_info=request.contact or None,
        )
        out = signers.sign_pdf(
            IncrementalPdfFileWriter(BytesIO(pdf)),
            meta,
            signer=self.signer,
            timestamper=self.timestamper,
        )
        return out.getvalue()


def contract_signer() -> ContractSigner:
    return import_string(settings.ANJU_CONTRACT_SIGNER)()
