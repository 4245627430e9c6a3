from __future__ import annotations

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from teams import views as team_views
from teams.forms import AdminLoginForm

# The admin's sign-in is throttled like the site's (teams.login_throttle).
admin.site.login_form = AdminLoginForm

team_patterns = [
    path("", include("workloads.urls")),
    path("", include("decisions.urls")),
    path("settings/", include("teams.urls")),
    path("prompts/", include("prompts.urls")),
    path("", include("evaluations.urls")),
]

urlpatterns = [
    path("", team_views.home, name="home"),
    path("login/", team_views.LoginView.as_view(), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("healthz", team_views.healthz, name="healthz"),
    # Browsers ask for /favicon.ico whatever the page declares (the API docs page declares none).
    path("favicon.ico", team_views.favicon),
    path("t/<slug:team_slug>/", include(team_patterns)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's initializer as a script file: no inline script (CSP).
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/v1/", include("config.api_urls")),
    path("admin/", admin.site.urls),
]

# Errors no middleware answered; a database outage among them is a 503, not a 500.
handler500 = "teams.views.server_error"
