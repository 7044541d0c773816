"""A lease template is staff-written HTML printed by WeasyPrint, which fetches whatever a
document names (a <link rel=attachment> even embeds the file into the PDF): the editor refuses
anything but layout, and the PDFs we print load nothing from outside themselves."""

from pathlib import Path

import pytest

from tenancy.contract_pdf import ContractDataError, check_markup, render_pdf
from tenancy.models import LeaseTemplate
from tests.personas import make_staff
from tests.tenancy.conftest import TEMPLATE

SECRET_FILE_TEXT = "anju-secret-should-not-leak"


def test_the_shipped_template_is_plain_layout():
    check_markup(TEMPLATE.read_text(encoding="utf-8"))  # no error


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ('<link rel="attachment" href="file:///etc/hostname">', "<link> 标签"),
        ('<img src="http://10.0.0.1/">', "<img> 标签"),
        ("<script>alert(1)</script>", "<script> 标签"),
        ('<p onclick="x()">合同</p>', "<p> 的 onclick 属性"),
        ('<p style="background: url(file:///etc/passwd)">合同</p>', "外部资源"),
        ("<style>@import url(http://x/)</style>", "<style> 标签"),
        ('<a href="http://x/">链接</a>', "<a> 标签"),
    ],
)
def test_the_editor_refuses_resources_scripts_and_links_naming_them(body, named):
    with pytest.raises(ContractDataError, match=named):
        check_markup(f"<h2>第一条</h2>{body}")


def test_a_pdf_does_not_embed_or_fetch_a_local_file(tmp_path: Path):
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET_FILE_TEXT)
    body = (
        f'<p>合同</p><link rel="attachment" href="{secret.as_uri()}"><img src="{secret.as_uri()}">'
    )
    pdf = render_pdf(title="测试合同", body_html=body, number="HT2026-000001")
    assert pdf.startswith(b"%PDF")
    assert b"EmbeddedFile" not in pdf and SECRET_FILE_TEXT.encode() not in pdf


@pytest.mark.django_db
def test_the_template_page_refuses_a_link_and_saves_nothing(client, offer):
    county = offer.household.county
    client.force_login(make_staff("t-markup", "district", region=county))
    before = LeaseTemplate.objects.filter(county=county).count()
    base = LeaseTemplate.objects.filter(county=county).order_by("-version").first().version
    response = client.post(
        f"/staff/contracts/templates/{county.pk}/",
        {
            "title": "合同",
            "body": '<p>{{ tenant_name }}</p><link rel="attachment" href="file:///etc/hostname">',
            "reason": "试图嵌入文件",
            "base_version": base,
        },
    )
    assert response.status_code == 200
    assert "合同范本不能使用&lt;link&gt; 标签" in response.content.decode()
    assert LeaseTemplate.objects.filter(county=county).count() == before
