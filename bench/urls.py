"""The project's URLconf plus the two reference endpoints the bench compares against."""

from django.http import JsonResponse
from django.urls import include, path
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView


class TrivialView(APIView):
    """The reference: a DRF APIView with the project's defaults and no work of its own."""

    permission_classes = [AllowAny]

    def get(self, request):
        return Response({"ok": True})


def plain(request):
    """Plain Django: what the middleware stack costs without DRF."""
    return JsonResponse({"ok": True})


urlpatterns = [
    path("bench/trivial", TrivialView.as_view()),
    path("bench/plain", plain),
    path("", include("gamarriando.urls")),
]
