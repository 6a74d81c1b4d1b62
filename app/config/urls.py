from django.contrib import admin
from django.urls import include, path, register_converter
from scaleboard.ops import views as ops_views

from config.converters import DatabaseId

# Before the includes below, which read `<id:...>` as they load.
register_converter(DatabaseId, "id")

urlpatterns = [
    path("", include("scaleboard.board.urls")),
    path("", include("scaleboard.accounts.urls")),
    path("api/", include("scaleboard.api.urls")),
    path("readyz", ops_views.readyz, name="readyz"),
    path("admin/", admin.site.urls),
]

# Database outages become 503 pages instead of 500s (see scaleboard.ops.views.server_error).
handler500 = "scaleboard.ops.views.server_error"
