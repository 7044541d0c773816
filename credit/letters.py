"""告知书: the written notice of a proposed record, for subjects without an online account
(organisations, people without a household account), to print and post or hand over.

It says what conduct, on what facts, at which level, with what consequence and period, and how
and until when to object; rendered to PDF with WeasyPrint and a CJK font from Debian.
"""

from pathlib import Path

from django.template.loader import render_to_string
from django.utils import timezone

from archive.pdf_resources import inline_only
from credit.models import Proposal, Subject
from disclosure.masking import mask_id_number

STYLE = Path(__file__).with_name("letter.css")


def letter_pdf(proposal: Proposal) -> bytes:
    """The proposal's 告知书 as an A4 PDF (the same text whenever it is printed)."""
    subject = proposal.subject
    person = subject.kind == Subject.Kind.PERSON
    conduct = proposal.conduct
    page = render_to_string(
        "credit/letter.html",
        {
            "p": proposal,
            "number": f"XY{proposal.notified_at:%Y}-{proposal.pk:06d}",
            "addressee": subject.name,
            "identifier": mask_id_number(subject.id_number) if person else subject.credit_code,
            "identifier_label": "身份证号" if person else "统一社会信用代码",
            "years": conduct.effect_months // 12 if conduct.effect_months % 12 == 0 else None,
            "months": conduct.effect_months,
            "issued": timezone.localtime(proposal.notified_at).date(),
            "reply_by": proposal.objection_until,
        },
    )
    from weasyprint import CSS, HTML  # heavy: loaded by the request that prints, not at start

    return HTML(string=page, url_fetcher=inline_only()).write_pdf(stylesheets=[CSS(filename=STYLE)])
