from __future__ import annotations

from typing import Any

from config.converters import MAX_ID
from django import forms

from scaleboard.board.models import Post


class PostForm(forms.Form):
    title = forms.CharField(max_length=Post._meta.get_field("title").max_length)
    url = forms.URLField(max_length=2000, required=False, assume_scheme="https", label="URL")
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), required=False, max_length=20000, label="Text")

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if bool(cleaned.get("url")) == bool(cleaned.get("body", "").strip()) and not self.errors:
            raise forms.ValidationError("Give either a URL or a text, not both.")
        return cleaned


class CommentForm(forms.Form):
    body = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), max_length=10000, label="Comment")
    parent = forms.IntegerField(required=False, widget=forms.HiddenInput, min_value=1, max_value=MAX_ID)


class SearchForm(forms.Form):
    q = forms.CharField(max_length=200, required=False, label="Search")


class PageForm(forms.Form):
    p = forms.IntegerField(min_value=1, max_value=1000, required=False)

    def page(self) -> int:
        return (self.cleaned_data.get("p") or 1) if self.is_valid() else 1


class VoteForm(forms.Form):
    # What the vote should become, not "toggle": sending the same form twice leaves one vote.
    up = forms.TypedChoiceField(choices=[("1", "vote"), ("0", "take the vote back")], coerce=lambda value: value == "1")
    next = forms.CharField(required=False, max_length=2000)
