from django.urls import path

from housing import oidc_views, views

urlpatterns = [
    path("apply/login/", views.login, name="apply-login"),
    path("apply/verify/", views.verify, name="apply-verify"),
    path("apply/logout/", views.logout, name="apply-logout"),
    path("login/oidc/", oidc_views.oidc_login, name="oidc-login"),
    path("login/oidc/callback/", oidc_views.oidc_callback, name="oidc-callback"),
    path("login/oidc/staff/", oidc_views.oidc_login_staff, name="oidc-login-staff"),
    path("apply/", views.apply, name="apply"),
    path("self-check/", views.self_check, name="self-check"),
    path("my/messages/", views.my_messages, name="my-messages"),
    path("dev/sms/", views.sms_inbox, name="sms-inbox"),
]
