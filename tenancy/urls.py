from django.urls import path

from tenancy import views

urlpatterns = [
    path("verify/", views.verify, name="verify"),
    path("my/contracts/<int:contract_id>/", views.my_contract, name="my-contract"),
    path("my/contracts/<int:contract_id>/pdf/", views.my_contract_pdf, name="my-contract-pdf"),
    path("my/contracts/<int:contract_id>/code/", views.my_contract_code, name="my-contract-code"),
    path(
        "my/contracts/<int:contract_id>/confirm/",
        views.my_contract_confirm,
        name="my-contract-confirm",
    ),
]
