from django.contrib import admin

from scaleboard.board.models import Comment, Post


@admin.register(Post)
class PostAdmin(admin.ModelAdmin):
    list_display = ("title", "author", "score", "comment_count", "created")
    list_select_related = ("author",)
    search_fields = ("title",)
    raw_id_fields = ("author",)
    # Counters and the ranking key are maintained by the services; editing them here would desync them.
    readonly_fields = ("score", "comment_count", "hot")


@admin.register(Comment)
class CommentAdmin(admin.ModelAdmin):
    list_display = ("id", "post", "author", "score", "created")
    list_select_related = ("post", "author")
    raw_id_fields = ("post", "author", "parent")
    readonly_fields = ("score",)
