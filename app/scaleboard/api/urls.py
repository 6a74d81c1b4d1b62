from django.urls import path

from scaleboard.api import views

app_name = "api"
urlpatterns = [
    path("openapi.json", views.openapi, name="openapi"),
    path("posts", views.posts, name="posts"),
    path("posts/<int:post_id>", views.post_detail, name="post"),
    path("posts/<int:post_id>/comments", views.post_comments, name="post-comments"),
    path("posts/<int:post_id>/vote", views.post_vote, name="post-vote"),
    path("comments/<int:comment_id>/vote", views.comment_vote, name="comment-vote"),
]
