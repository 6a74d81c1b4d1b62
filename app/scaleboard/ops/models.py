from django.db import models


class RateCounter(models.Model):
    """Requests counted for one rate-limit key in one fixed window (scaleboard.ops.rate_limits)."""

    pk = models.CompositePrimaryKey("key", "window_start")
    key = models.CharField(max_length=200)
    # Epoch seconds at the window's start: an integer, so every worker computes the same window.
    window_start = models.BigIntegerField()
    hits = models.IntegerField()

    def __str__(self) -> str:
        return f"{self.key} @ {self.window_start}: {self.hits}"
