"""Deliberately broken routes, to prove that the tenancy sweeps catch a leak."""

from __future__ import annotations

from django.http import HttpResponse
from django.urls import path
from rest_framework.response import Response

from teams.api.auth import IsAuthenticatedCaller
from teams.api.views import TeamAPIView
from teams.models import ApiToken


class LeakyTokenDetail(TeamAPIView):
    permission_classes = [IsAuthenticatedCaller]

    def get(self, request, pk):
        token = ApiToken.objects.get(pk=pk)  # not scoped to self.team: the bug to catch
        return Response({"name": token.name})


def unguarded_page(request, team_slug):
    return HttpResponse(f"settings of {team_slug}")  # no team_view: the bug to catch


urlpatterns = [
    path("api/v1/leaky-tokens/<int:pk>", LeakyTokenDetail.as_view()),
    path("t/<slug:team_slug>/unguarded/", unguarded_page),
]
