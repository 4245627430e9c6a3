from __future__ import annotations

from django.urls import path

from evaluations.api import prices

urlpatterns = [
    path("prices", prices.PriceListView.as_view(), name="api-price-list"),
    path("prices/resolve", prices.PriceResolveView.as_view(), name="api-price-resolve"),
    path("prices/<int:pk>", prices.PriceDetailView.as_view(), name="api-price-detail"),
]
