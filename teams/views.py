from __future__ import annotations

import sys

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Count, Q
from django.http import HttpRequest, HttpResponse, HttpResponseServerError, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.templatetags.static import static
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from config.cache import cache_status
from config.cache import failures as cache_failures
from config.celery import app as celery_app
from teams import services
from teams.api.errors import is_database_unavailable, json_error
from teams.forms import (
    LoginForm,
    MemberAddForm,
    MemberRoleForm,
    TokenCreateForm,
    WebhookEditForm,
    WebhookForm,
)
from teams.middleware import is_api, service_unavailable
from teams.models import ApiToken, Membership, Role, Webhook, WebhookDelivery
from teams.scoping import team_view

# A freshly created token or webhook secret waits in the session for exactly one page view
# (post/redirect/get), so that reloading the page neither shows it again nor creates another.
ONCE_KEY = "teams.show_once"
DELIVERY_LOG_LENGTH = 50


class LoginView(auth_views.LoginView):
    """Django's login page with throttled sign-ins: a throttled attempt is a 429."""

    authentication_form = LoginForm
    redirect_authenticated_user = True

    def form_invalid(self, form):
        response = super().form_invalid(form)
        wait = getattr(form, "throttled_for", 0)
        if wait:
            response.status_code = 429
            response["Retry-After"] = str(wait)
        return response


def home(request: HttpRequest) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect("login")
    return _first_team_or_none(request)


@login_required
def _first_team_or_none(request: HttpRequest) -> HttpResponse:
    membership = request.user.memberships.select_related("team").order_by("team__name").first()
    if membership is None:
        return render(request, "teams/no_team.html")
    return redirect("workloads:dashboard", team_slug=membership.team.slug)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """503 when the database or the broker is down; a cache outage only degrades (throttling
    fails open), so the process stays in service and says so."""
    checks = {"database": _check_database(), "broker": _check_broker()}
    cache = cache_status()
    ok = all(value == "ok" for value in checks.values())
    status = "error" if not ok else "ok" if cache == "ok" else "degraded"
    return JsonResponse(
        {"status": status, **checks, "cache": cache, "cache_failures": cache_failures.count},
        status=200 if ok else 503,
    )


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return "ok"
    except Exception as exc:  # noqa: BLE001 - any failure is a failed check
        return f"error: {exc.__class__.__name__}"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write() as conn:
            conn.ensure_connection(max_retries=1, timeout=2)
        return "ok"
    except Exception as exc:  # noqa: BLE001
        return f"error: {exc.__class__.__name__}"


def coming_later(heading: str, text: str):
    """An honest empty page for a section that a later release fills in."""

    @team_view
    def view(request: HttpRequest) -> HttpResponse:
        return render(request, "placeholder.html", {"heading": heading, "text": text})

    return view


def _submit(form, service, **kwargs):
    """Call `service`; its ValidationError lands next to the fields, keeping what was typed."""
    try:
        return service(**kwargs)
    except ValidationError as exc:
        form.add_error(None, exc)
        return None


def _show_once(request: HttpRequest, label: str, value: str) -> None:
    request.session[ONCE_KEY] = {"label": label, "value": value}


# Members ----------------------------------------------------------------------------------------


@team_view(role=Role.ADMIN)
def settings_home(request: HttpRequest) -> HttpResponse:
    return redirect("teams:members", team_slug=request.team.slug)


@team_view(role=Role.ADMIN)
def members(request: HttpRequest) -> HttpResponse:
    form = MemberAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        membership = _submit(
            form,
            services.membership_add,
            team=request.team,
            identifier=form.cleaned_data["user"],
            role=form.cleaned_data["role"],
        )
        if membership is not None:
            messages.success(request, f"{membership.user.username} joined as {membership.role}.")
            return redirect("teams:members", team_slug=request.team.slug)
    rows = Membership.objects.filter(team=request.team).select_related("user")
    return render(
        request,
        "teams/members.html",
        {"form": form, "members": rows, "roles": Role.choices},
        status=400 if form.errors else 200,
    )


@require_POST
@team_view(role=Role.ADMIN)
def member_role(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _team_membership(request, pk)
    form = MemberRoleForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a valid role.")
    else:
        try:
            services.membership_change_role(membership=membership, role=form.cleaned_data["role"])
            messages.success(request, f"{membership.user.username} is now {membership.role}.")
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
    return _back_to_members(request, membership)


@require_POST
@team_view(role=Role.ADMIN)
def member_remove(request: HttpRequest, pk: int) -> HttpResponse:
    membership = _team_membership(request, pk)
    try:
        services.membership_remove(membership=membership)
        messages.success(request, f"{membership.user.username} left {request.team.name}.")
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    return _back_to_members(request, membership)


def _team_membership(request: HttpRequest, pk: int) -> Membership:
    return get_object_or_404(Membership.objects.select_related("user"), team=request.team, pk=pk)


def _back_to_members(request: HttpRequest, membership: Membership) -> HttpResponse:
    # An admin who demoted or removed themselves can no longer see the settings.
    if membership.user_id == request.user.pk and (
        membership.pk is None or membership.role != Role.ADMIN
    ):
        return redirect("home")
    return redirect("teams:members", team_slug=request.team.slug)


# API tokens -------------------------------------------------------------------------------------


@team_view(role=Role.ADMIN)
@never_cache
def tokens(request: HttpRequest) -> HttpResponse:
    form = TokenCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        created = _submit(
            form,
            services.api_token_create,
            team=request.team,
            name=form.cleaned_data["name"],
            scopes=form.cleaned_data["scopes"],
            created_by=request.user,
        )
        if created is not None:
            token, raw = created
            _show_once(request, f"API token “{token.name}”", raw)
            return redirect("teams:tokens", team_slug=request.team.slug)
    rows = ApiToken.objects.for_team(request.team).select_related("created_by")
    return render(
        request,
        "teams/tokens.html",
        {"form": form, "tokens": rows, "once": request.session.pop(ONCE_KEY, None)},
        status=400 if form.errors else 200,
    )


@require_POST
@team_view(role=Role.ADMIN)
def token_revoke(request: HttpRequest, pk: int) -> HttpResponse:
    token = get_object_or_404(ApiToken.objects.for_team(request.team), pk=pk)
    services.api_token_revoke(token=token)
    messages.success(request, f"Token “{token.name}” revoked: it stops working immediately.")
    return redirect("teams:tokens", team_slug=request.team.slug)


# Webhooks ---------------------------------------------------------------------------------------


@team_view(role=Role.ADMIN)
@never_cache
def webhooks(request: HttpRequest) -> HttpResponse:
    form = WebhookForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        hook = _submit(form, services.webhook_create, team=request.team, **form.cleaned_data)
        if hook is not None:
            _show_once(request, "Signing secret", hook.secret)
            return redirect("teams:webhook_detail", team_slug=request.team.slug, pk=hook.pk)
    failed = Q(deliveries__status=WebhookDelivery.Status.FAILED)
    rows = Webhook.objects.for_team(request.team).annotate(
        delivery_count=Count("deliveries"), failed_count=Count("deliveries", filter=failed)
    )
    return render(
        request,
        "teams/webhooks.html",
        {"form": form, "webhooks": rows},
        status=400 if form.errors else 200,
    )


@team_view(role=Role.ADMIN)
@never_cache
def webhook_detail(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.for_team(request.team), pk=pk)
    initial = {"url": hook.url, "events": hook.events, "is_active": hook.is_active}
    form = WebhookEditForm(request.POST or None, initial=initial)
    if (
        request.method == "POST"
        and form.is_valid()
        and _submit(form, services.webhook_update, webhook=hook, **form.cleaned_data)
    ):
        messages.success(request, "Webhook saved.")
        return redirect("teams:webhook_detail", team_slug=request.team.slug, pk=hook.pk)
    deliveries = hook.deliveries.all()[:DELIVERY_LOG_LENGTH]
    return render(
        request,
        "teams/webhook_detail.html",
        {
            "webhook": hook,
            "form": form,
            "deliveries": deliveries,
            "once": request.session.pop(ONCE_KEY, None),
        },
        status=400 if form.errors else 200,
    )


@require_POST
@team_view(role=Role.ADMIN)
def webhook_rotate(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.for_team(request.team), pk=pk)
    services.webhook_rotate_secret(webhook=hook)
    _show_once(request, "New signing secret", hook.secret)
    return redirect("teams:webhook_detail", team_slug=request.team.slug, pk=hook.pk)


@require_POST
@team_view(role=Role.ADMIN)
def webhook_delete(request: HttpRequest, pk: int) -> HttpResponse:
    hook = get_object_or_404(Webhook.objects.for_team(request.team), pk=pk)
    services.webhook_delete(webhook=hook)
    messages.success(request, f"Webhook {hook.url} deleted.")
    return redirect("teams:webhooks", team_slug=request.team.slug)


def server_error(request: HttpRequest) -> HttpResponse:
    """handler500, for errors no middleware answered (a 404 page that could not load the user,
    a session that could not be saved): a database outage is a 503, anything else the 500
    page, or the API's error body under /api/."""
    if is_database_unavailable(sys.exception()):
        return service_unavailable(request)
    if is_api(request):
        return json_error(500, "Server error.")
    return HttpResponseServerError(render_to_string("500.html"))


def favicon(request: HttpRequest) -> HttpResponse:
    # Resolved per request: the hashed static name exists only after collectstatic.
    return redirect(static("img/favicon.svg"), permanent=True)
