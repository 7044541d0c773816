"""Sending text messages through a pluggable backend (ANJU_SMS_BACKEND).

The default keeps messages in the database and shows them on a development inbox page; a real
deployment names a class with the same `send(phone, text)` method for its SMS provider.
"""

from django.conf import settings
from django.utils.module_loading import import_string

from housing.models import SmsMessage


class DatabaseInbox:
    def send(self, phone: str, text: str) -> None:
        SmsMessage.objects.create(phone=phone, text=text)


def send_sms(phone: str, text: str) -> None:
    import_string(settings.ANJU_SMS_BACKEND)().send(phone, text)
