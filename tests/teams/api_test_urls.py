"""The real URL conf plus two API views that exercise scopes and server errors."""

from __future__ import annotations

from django.urls import path
from rest_framework.response import Response

from config.urls import urlpatterns as real_urlpatterns
from teams.api.views import TeamAPIView
from teams.models import ApiToken


class ScopedView(TeamAPIView):
    read_scope = "decisions:read"
    write_scope = "decisions:write"
    queryset = ApiToken.objects.all()

    def get(self, request):
        return Response({"team": self.team.slug, "tokens": self.get_queryset().count()})

    def post(self, request):
        return Response({"team": self.team.slug}, status=201)


def boom(request):
    raise RuntimeError("unexpected")


urlpatterns = [
    path("api/v1/test-scoped", ScopedView.as_view()),
    path("api/v1/test-boom", boom),
    path("test-boom", boom),
    *real_urlpatterns,
]
