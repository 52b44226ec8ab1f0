from __future__ import annotations

from django.urls import path

from tecnocursos.core.api import views

urlpatterns = [
    path("auth/token/", views.TokenObtainApi.as_view(), name="token_obtain_pair"),
    path("auth/token/refresh/", views.TokenRefreshApi.as_view(), name="token_refresh"),
    path("uploads/", views.UploadListCreateApi.as_view(), name="upload-list"),
    path("uploads/<id:upload_id>/", views.UploadDetailApi.as_view(), name="upload-detail"),
    path("courses/", views.CourseListCreateApi.as_view(), name="course-list"),
    path("courses/<id:course_id>/", views.CourseDetailApi.as_view(), name="course-detail"),
]
