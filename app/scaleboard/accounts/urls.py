from django.contrib.auth import views as auth_views
from django.urls import path, re_path

from scaleboard.accounts import views

urlpatterns = [
    path("signup", views.signup, name="signup"),
    path("login", auth_views.LoginView.as_view(template_name="accounts/login.html"), name="login"),
    path("logout", auth_views.LogoutView.as_view(), name="logout"),
    # Only characters Django allows in usernames, so odd bytes (e.g. NUL) are a 404, never a database error.
    re_path(r"^user/(?P<username>[\w.@+-]+)$", views.profile, name="profile"),
    path("settings/tokens", views.api_tokens, name="api-tokens"),
    path("settings/tokens/<id:token_id>/revoke", views.api_token_revoke, name="api-token-revoke"),
]
