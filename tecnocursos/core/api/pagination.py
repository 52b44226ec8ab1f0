from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.db.models import QuerySet
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import BaseSerializer


class Pagination(PageNumberPagination):
    page_size_query_param = "page_size"
    max_page_size = 500

    def get_page_number(self, request: Request, paginator: Any) -> Any:
        value = request.query_params.get(self.page_query_param)
        if value is not None and not value.isdigit():
            raise ValidationError({self.page_query_param: ["A positive integer."]})
        return super().get_page_number(request, paginator)

    def get_page_size(self, request: Request) -> int | None:
        # DRF silently falls back to the default for a bad page_size; a client should hear about it.
        value = request.query_params.get(self.page_size_query_param)
        if value is None:
            return self.page_size
        if not value.isdigit() or not 1 <= int(value) <= self.max_page_size:
            raise ValidationError({self.page_size_query_param: [f"An integer from 1 to {self.max_page_size}."]})
        return int(value)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        # The generated parameters say "integer"; the bounds are part of the truth.
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            parameter["schema"]["minimum"] = 1
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["maximum"] = self.max_page_size
        return parameters


def paginated_response(
    request: Request, view: Any, queryset: QuerySet[Any], serializer_class: type[BaseSerializer[Any]]
) -> Response:
    """One page of `queryset`, serialized, with count/next/previous.

    The view must name its `pagination_class`: the schema generator reads it to
    describe the page (and its `page`/`page_size` parameters), so they cannot drift.
    """
    pagination_class = getattr(view, "pagination_class", None)
    if pagination_class is None:
        raise ImproperlyConfigured(f"{type(view).__name__} paginates: set pagination_class = Pagination")
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response(serializer_class(page, many=True).data)
