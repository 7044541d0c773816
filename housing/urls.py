from django.urls import path

from housing import views

urlpatterns = [
    path("apply/login/", views.login, name="apply-login"),
    path("apply/verify/", views.verify, name="apply-verify"),
    path("apply/logout/", views.logout, name="apply-logout"),
    path("apply/", views.apply, name="apply"),
    path("self-check/", views.self_check, name="self-check"),
    path("my/messages/", views.my_messages, name="my-messages"),
    path("dev/sms/", views.sms_inbox, name="sms-inbox"),
]
