from django.urls import path

from scaleboard.board import views

app_name = "board"
urlpatterns = [
    path("", views.hot, name="hot"),
    path("new", views.new, name="new"),
    path("search", views.search, name="search"),
    path("submit", views.submit, name="submit"),
    path("post/<id:post_id>", views.post_detail, name="post"),
    path("post/<id:post_id>/vote", views.post_vote, name="post-vote"),
    path("comment/<id:comment_id>/vote", views.comment_vote, name="comment-vote"),
]
