from django import forms
from django.contrib.auth.forms import UserCreationForm

from scaleboard.accounts.models import User


class SignupForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("username",)


class ApiTokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="What the token is for, e.g. 'load test'.")
