"""Template filters for board pages."""

from __future__ import annotations

from datetime import datetime

from django import template
from django.utils import timezone

register = template.Library()

_UNITS = ((86400 * 365, "year"), (86400 * 30, "month"), (86400, "day"), (3600, "hour"), (60, "minute"))


@register.filter
def ago(moment: datetime) -> str:
    """'3 hours ago': the largest whole unit only, as link boards show it.

    Django's timesince gives two units and translates each; at 30+ rows a page that was a fifth of
    the render time.
    """
    seconds = (timezone.now() - moment).total_seconds()
    for size, name in _UNITS:
        if seconds >= size:
            count = int(seconds // size)
            return f"{count} {name}{'s' if count != 1 else ''} ago"
    return "just now"
