"""Values every public page shows: the city's name, demo-data notice, text-size preference."""

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict:
    from geo.selectors import demo_data_present

    return {
        "city_name": settings.ANJU_CITY_NAME,
        "hotline": settings.ANJU_HOTLINE,
        "demo_data": demo_data_present(),
        "large_text": request.COOKIES.get("text_size") == "large",
    }
