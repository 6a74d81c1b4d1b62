from django import forms
from django.contrib.auth.forms import UserCreationForm

from scaleboard.accounts.models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username",)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'load test'.")
    expires_in_days = forms.TypedChoiceField(
        label="Expires",
        choices=[("", "never"), ("7", "in 7 days"), ("30", "in 30 days"), ("90", "in 90 days"), ("365", "in a year")],
        coerce=int,
        empty_value=None,
        required=False,
    )
