"""Forms of the team settings pages and the login page. They only parse input: the services
validate and write."""

from __future__ import annotations

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm

from teams import login_throttle
from teams.models import Role, Scope, WebhookEvent

SCOPE_HELP = {
    Scope.USAGE_WRITE: "push usage metrics",
    Scope.PROMPTS_READ: "fetch and render prompts",
    Scope.PROMPTS_WRITE: "create prompt versions, move labels",
    Scope.DECISIONS_READ: "read workloads, flags and decision records",
    Scope.DECISIONS_WRITE: "change workloads and decision records",
    Scope.EVALUATIONS_READ: "read benchmark runs",
    Scope.EVALUATIONS_WRITE: "start benchmark runs",
}


class MemberAddForm(forms.Form):
    user = forms.CharField(
        label="Username or e-mail",
        max_length=254,
        help_text="The person needs an account already.",
        widget=forms.TextInput(attrs={"autocomplete": "off"}),
    )
    role = forms.ChoiceField(choices=Role.choices, initial=Role.VIEWER)


class MemberRoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class TokenCreateForm(forms.Form):
    name = forms.CharField(
        max_length=100, help_text="What uses it, e.g. “checkout service (production)”."
    )
    scopes = forms.MultipleChoiceField(
        choices=[(s.value, f"{s.value} — {SCOPE_HELP[s]}") for s in Scope],
        widget=forms.CheckboxSelectMultiple,
    )


class WebhookForm(forms.Form):
    # A CharField, not a URLField: the one outgoing-URL check (teams.netguard) gives the errors.
    url = forms.CharField(
        label="Payload URL",
        max_length=500,
        help_text="Receives a signed JSON POST for each event. Must be public http(s).",
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/crossover"}),
    )
    events = forms.MultipleChoiceField(
        choices=[(e.value, e.value) for e in WebhookEvent],
        widget=forms.CheckboxSelectMultiple,
    )


class WebhookEditForm(WebhookForm):
    is_active = forms.BooleanField(label="Active", required=False)


class ThrottledLoginMixin:
    """For Django's login forms (the site's and the admin's): refuses sign-ins while their
    username or address is throttled (teams.login_throttle) and counts the failures."""

    def clean(self):
        username = self.cleaned_data.get("username") or ""
        wait = login_throttle.wait_seconds(request=self.request, username=username)
        if wait:
            self.throttled_for = wait
            raise forms.ValidationError(login_throttle.refusal(wait), code="throttled")
        try:
            cleaned = super().clean()
        except forms.ValidationError:
            login_throttle.record_failure(request=self.request, username=username)
            raise
        login_throttle.record_success(request=self.request, username=username)
        return cleaned


class LoginForm(ThrottledLoginMixin, AuthenticationForm):
    pass


class AdminLoginForm(ThrottledLoginMixin, AdminAuthenticationForm):
    pass
