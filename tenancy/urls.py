from django.urls import path

from tenancy import complaint_views, exit_views, repair_views, review_views, views

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
    # 维修 (repairs): the tenant reports, follows, confirms or reopens
    path("my/repairs/", repair_views.my_repairs, name="my-repairs"),
    path("my/repairs/new/", repair_views.my_repair_new, name="my-repair-new"),
    path("my/repairs/<int:repair_id>/", repair_views.my_repair, name="my-repair"),
    path(
        "my/repairs/<int:repair_id>/confirm/",
        repair_views.my_repair_confirm,
        name="my-repair-confirm",
    ),
    path(
        "my/repairs/<int:repair_id>/reopen/", repair_views.my_repair_reopen, name="my-repair-reopen"
    ),
    path(
        "my/repairs/<int:repair_id>/photos/<int:photo_id>/",
        repair_views.my_repair_photo,
        name="my-repair-photo",
    ),
    # 年审 and 续租 (issue 13): the yearly confirmation and the renewal request
    path(
        "my/annual-reviews/<int:review_id>/",
        review_views.my_annual_review,
        name="my-annual-review",
    ),
    path(
        "my/contracts/<int:contract_id>/annual-review/",
        review_views.my_contract_review,
        name="my-contract-annual-review",
    ),
    path("my/contracts/<int:contract_id>/renewal/", review_views.my_renewal, name="my-renewal"),
    path(
        "my/contracts/<int:contract_id>/renewal/withdraw/",
        review_views.my_renewal_withdraw,
        name="my-renewal-withdraw",
    ),
    # 退出 (issue 13): the tenant's notice and the exit's progress
    path("my/contracts/<int:contract_id>/exit/", exit_views.my_exit, name="my-exit"),
    # 群众举报 (violations, issue 13): the public report form and its receipt
    path("report/", complaint_views.report, name="complaint"),
    path("report/<str:reference>/", complaint_views.receipt, name="complaint-receipt"),
]
