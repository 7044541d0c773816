"""Django admin (superusers): where an administrator links a verified identity to a staff
account, so its holder may sign in to the back office through the identity provider."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from exchange.models import OidcIdentity


@admin.register(OidcIdentity)
class OidcIdentityAdmin(admin.ModelAdmin):
    list_display = ["masked_name", "masked_id", "issuer", "user", "applicant", "last_signed_in_at"]
    list_filter = ["issuer"]
    list_select_related = ["user", "applicant"]
    search_fields = ["user__username"]
    fields = [
        "issuer",
        "subject",
        "name",
        "id_number",
        "applicant",
        "user",
        "first_signed_in_at",
        "last_signed_in_at",
    ]
    readonly_fields = [
        "issuer",
        "subject",
        "name",
        "id_number",
        "applicant",
        "first_signed_in_at",
        "last_signed_in_at",
    ]
    raw_id_fields = ["user"]

    def has_add_permission(self, request) -> bool:
        return False  # identities come from the provider, never typed in

    @admin.display(description=_("姓名"))
    def masked_name(self, identity: OidcIdentity) -> str:
        return identity.name[:1] + "*" * (len(identity.name) - 1)

    @admin.display(description=_("身份证号"))
    def masked_id(self, identity: OidcIdentity) -> str:
        return f"{identity.id_number[:6]}********{identity.id_number[-4:]}"
