"""Pages of the model providers: list, add, edit, delete, test the connection."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.cache import patch_vary_headers
from django.views.decorators.debug import sensitive_post_parameters, sensitive_variables
from django.views.decorators.http import require_POST

from evaluations.forms import (
    ProviderForm,
)
from evaluations.models import Provider
from evaluations.services.providers import (
    provider_create,
    provider_delete,
    provider_test_connection,
    provider_update,
)
from teams.scoping import team_view


@sensitive_variables("data", "fields")
def _provider_page(request: HttpRequest, provider: Provider | None) -> HttpResponse:
    form = ProviderForm(
        request.POST or None, provider=provider, initial=_provider_initial(provider)
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = {"name": data["name"].strip(), "base_url": data["base_url"],
                  "api_key": data["api_key"], "api_key_env": data["api_key_env"]}  # fmt: skip
        try:
            if provider is None:
                provider = provider_create(team=request.team, **fields)
            else:
                clear = data.get("clear_api_key", False)
                provider = provider_update(provider=provider, clear_api_key=clear, **fields)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Provider {provider.name} saved.")
            return redirect("evaluations:provider_list", team_slug=request.team.slug)
    context = {"form": form, "provider": provider}
    return render(request, "evaluations/providers/form.html", context)


def _provider_initial(provider: Provider | None) -> dict:
    if provider is None:
        return {}
    return {"name": provider.name, "base_url": provider.base_url,
            "api_key_env": provider.api_key_env}  # fmt: skip


@team_view
def provider_list(request: HttpRequest) -> HttpResponse:
    providers = Provider.objects.for_team(request.team)
    return render(request, "evaluations/providers/list.html", {"providers": providers})


@team_view
@sensitive_post_parameters("api_key")
def provider_create_view(request: HttpRequest) -> HttpResponse:
    return _provider_page(request, None)


@team_view
@sensitive_post_parameters("api_key")
def provider_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _provider_page(
        request, get_object_or_404(Provider.objects.for_team(request.team), pk=pk)
    )


@team_view
@require_POST
def provider_delete_view(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider.objects.for_team(request.team), pk=pk)
    try:
        provider_delete(provider=provider)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("evaluations:provider_list", team_slug=request.team.slug)
    messages.success(request, f"Provider {provider.name} deleted.")
    return redirect("evaluations:provider_list", team_slug=request.team.slug)


@team_view
@require_POST
def provider_test(request: HttpRequest, pk: int) -> HttpResponse:
    provider = get_object_or_404(Provider.objects.for_team(request.team), pk=pk)
    check = provider_test_connection(provider=provider)
    if request.htmx:
        context = {"provider": provider, "check": check}
        response = render(request, "evaluations/providers/list.html#provider-row", context)
    else:
        if check.ok:
            messages.success(request, f"{provider.name}: {len(check.models)} models found.")
        else:
            messages.error(request, f"{provider.name}: {check.error}")
        response = redirect("evaluations:provider_list", team_slug=request.team.slug)
    patch_vary_headers(response, ["HX-Request"])
    return response


# Datasets ---------------------------------------------------------------------------------------
