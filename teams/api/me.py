"""GET /api/v1/me — who is calling: the team, and the token's scopes or the user's role."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiExample, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response

from teams.api.auth import IsAuthenticatedCaller, request_token
from teams.api.views import TeamAPIView
from teams.models import Role, Scope

MeSerializer = inline_serializer(
    "Me",
    {
        "team": serializers.CharField(help_text="slug of the team the caller acts for"),
        "token": inline_serializer(
            "MeToken",
            {
                "name": serializers.CharField(),
                "prefix": serializers.CharField(),
                "scopes": serializers.ListField(child=serializers.ChoiceField(Scope.choices)),
            },
            allow_null=True,
        ),
        "user": serializers.CharField(allow_null=True),
        "role": serializers.ChoiceField(Role.choices, allow_null=True),
    },
)


class MeView(TeamAPIView):
    """Any valid token (whatever its scopes) or logged-in member may ask who it is."""

    permission_classes = [IsAuthenticatedCaller]

    @extend_schema(
        summary="Who is calling",
        responses={200: MeSerializer},
        examples=[
            OpenApiExample(
                "token",
                value={
                    "team": "demo",
                    "token": {"name": "ci", "prefix": "cx_AbCdEfGh", "scopes": ["usage:write"]},
                    "user": None,
                    "role": None,
                },
            )
        ],
    )
    def get(self, request: Request) -> Response:
        token = request_token(request)
        membership = self.membership
        return Response(
            {
                "team": self.team.slug,
                "token": None
                if token is None
                else {"name": token.name, "prefix": token.prefix, "scopes": token.scopes},
                "user": None if self.actor is None else self.actor.username,
                "role": None if membership is None else membership.role,
            }
        )
