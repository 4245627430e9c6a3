"""Pages of the model price table."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms.models import model_to_dict
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from evaluations.forms import (
    ModelPriceForm,
    PriceCheckForm,
)
from evaluations.models import ModelPrice
from evaluations.pricing import price_for
from evaluations.services.prices import (
    EDITABLE_FIELDS,
    model_price_clean,
    model_price_create,
    model_price_delete,
    model_price_update,
)
from teams.htmx import render_partial
from teams.scoping import team_view


@team_view
def price_list(request: HttpRequest) -> HttpResponse:
    rows = list(ModelPrice.objects.for_team(request.team))
    check = PriceCheckForm(request.GET or None)
    checked = None
    if check.is_valid() and check.cleaned_data["model"].strip():
        name = check.cleaned_data["model"].strip()
        checked = {"model": name, "price": price_for(request.team, name, rows=rows)}
    context = {"rows": rows, "check": check, "checked": checked}
    return render_partial(request, "evaluations/prices/list.html", context, partial="check-result")


@team_view
def price_create(request: HttpRequest) -> HttpResponse:
    form = ModelPriceForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            values = model_price_clean(team=request.team, data=form.cleaned_data)
            price = model_price_create(team=request.team, actor=request.user, **values)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Price for {price.model} added.")
            return redirect("evaluations:price_list", team_slug=request.team.slug)
    return render(request, "evaluations/prices/form.html", {"form": form, "price": None})


@team_view
def price_edit(request: HttpRequest, pk: int) -> HttpResponse:
    price = get_object_or_404(ModelPrice.objects.for_team(request.team), pk=pk)
    form = ModelPriceForm(request.POST or None, initial=model_to_dict(price, EDITABLE_FIELDS))
    if request.method == "POST" and form.is_valid():
        try:
            values = model_price_clean(team=request.team, data=form.cleaned_data, price=price)
            model_price_update(price=price, actor=request.user, **values)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, f"Price for {price.model} saved.")
            return redirect("evaluations:price_list", team_slug=request.team.slug)
    return render(request, "evaluations/prices/form.html", {"form": form, "price": price})


@team_view
@require_POST
def price_delete(request: HttpRequest, pk: int) -> HttpResponse:
    price = get_object_or_404(ModelPrice.objects.for_team(request.team), pk=pk)
    model_price_delete(price=price, actor=request.user)
    messages.success(request, f"Price for {price.model} deleted.")
    return redirect("evaluations:price_list", team_slug=request.team.slug)


# Providers --------------------------------------------------------------------------------------
