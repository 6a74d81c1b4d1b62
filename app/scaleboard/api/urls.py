from django.urls import path, re_path

from scaleboard.api import views
from scaleboard.api.views import endpoint

app_name = "api"
urlpatterns = [
    path("openapi.json", endpoint(GET=views.openapi), name="openapi"),
    path("docs", views.docs, name="docs"),
    path("posts", endpoint(GET=views.post_list, POST=views.post_create), name="posts"),
    path("posts/<id:post_id>", endpoint(GET=views.post_detail), name="post"),
    path(
        "posts/<id:post_id>/comments",
        endpoint(GET=views.comment_list, POST=views.comment_create),
        name="post-comments",
    ),
    path("posts/<id:post_id>/vote", endpoint(PUT=views.post_vote_up, DELETE=views.post_vote_down), name="post-vote"),
    path(
        "comments/<id:comment_id>/vote",
        endpoint(PUT=views.comment_vote_up, DELETE=views.comment_vote_down),
        name="comment-vote",
    ),
    path("tokens", endpoint(GET=views.token_list, POST=views.token_create), name="tokens"),
    path("tokens/<id:token_id>", endpoint(DELETE=views.token_revoke), name="token"),
    # Last: any other path under /api/ is a JSON 404, not the site's HTML page.
    re_path(r"^(?P<path>[\s\S]*)$", views.not_found),  # [\s\S]: newlines too
]
