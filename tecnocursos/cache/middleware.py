"""A response cache for GET/HEAD API views that opt in.

    @cache_response(ttl_seconds=30, tags=["courses"])
    class CourseListApi(APIView): ...            # or on a function view

Entries are keyed by path, query, Accept and the user (id and staff flag), so one user's
response is never served to another. The user is the session user, or the one the view's own
DRF authenticators find (JWT): a cached answer is only given to a caller who authenticates as
that user; a failed authentication is left to the view (its 401 is never cached).
Only 200 responses without cookies are stored. `Cache-Control: no-cache` from the client skips
the lookup (the fresh response replaces the entry). Responses carry an ETag; a matching
If-None-Match gets 304. When the data behind a view changes, `cache.invalidate_tags([...])`
drops its entries in every process.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers

from tecnocursos.cache.backend import HierarchicalCacheBackend

_CACHEABLE_METHODS = ("GET", "HEAD")
_SKIPPED_HEADERS = {"set-cookie", "content-length", "x-cache", "date"}


@dataclass(frozen=True)
class ResponseCacheOptions:
    ttl_seconds: float
    tags: Sequence[str] | Callable[..., Sequence[str]]
    cache_alias: str = "default"


def cache_response(
    ttl_seconds: float = 60,
    tags: Sequence[str] | Callable[..., Sequence[str]] = (),
    cache_alias: str = "default",
) -> Callable[[Any], Any]:
    """Opt a view (function, or DRF/Django view class) into the response cache.

    `tags` is a list, or a callable `(request, **view_kwargs) -> list` for per-object tags.
    """
    options = ResponseCacheOptions(ttl_seconds, tags, cache_alias)

    def decorate(view: Any) -> Any:
        view.response_cache = options
        return view

    return decorate


@dataclass(frozen=True)
class _Pending:
    """What process_view leaves on the request for __call__ to store after a miss."""

    key: str
    options: ResponseCacheOptions
    tags: list[str]


if TYPE_CHECKING:

    class _CachingRequest(HttpRequest):
        _response_cache: _Pending | None  # set by process_view on cacheable views


def _backend(alias: str) -> HierarchicalCacheBackend:
    backend = caches[alias]
    if not isinstance(backend, HierarchicalCacheBackend):  # entries need tags, or invalidation misses them
        raise ImproperlyConfigured(f"@cache_response needs the HierarchicalCacheBackend; {alias!r} is "
                                   f"{type(backend).__name__}")
    return backend


def _options(view_func: Any) -> ResponseCacheOptions | None:
    options = getattr(view_func, "response_cache", None)
    if options is None:
        view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
        options = getattr(view_class, "response_cache", None)
    return options if isinstance(options, ResponseCacheOptions) else None


def _identify(request: HttpRequest, view_func: Any) -> str | None:
    """'u<id>[s]' or 'anon'; None when credentials were sent but don't authenticate."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        view_class = getattr(view_func, "cls", None)
        if view_class is not None and "HTTP_AUTHORIZATION" in request.META:
            from rest_framework.exceptions import APIException
            from rest_framework.request import Request

            drf_request = Request(request, authenticators=[auth() for auth in view_class.authentication_classes])
            try:
                user = drf_request.user
            except APIException:
                return None
    if user is None or not user.is_authenticated:
        return "anon"
    return f"u{user.pk}{'s' if user.is_staff else ''}"


def _etag(content: bytes) -> str:
    return f'"{hashlib.blake2b(content, digest_size=16).hexdigest()}"'


def _matches(if_none_match: str, etag: str) -> bool:
    candidates = {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


class ResponseCacheMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        pending: _Pending | None = getattr(request, "_response_cache", None)  # absent: not a cacheable view
        if pending is None:
            return response
        if response.status_code == 200 and not response.streaming and not response.cookies:
            etag = _etag(response.content)
            headers = [(k, v) for k, v in response.items() if k.lower() not in _SKIPPED_HEADERS]
            entry = {"content": response.content, "headers": headers, "etag": etag}
            _backend(pending.options.cache_alias).set(pending.key, entry, pending.options.ttl_seconds,
                                                      tags=pending.tags)
            response["ETag"] = etag
            response["X-Cache"] = "MISS"
            if _matches(request.headers.get("If-None-Match", ""), etag):
                response = self._not_modified(etag)
        patch_vary_headers(response, ("Authorization", "Cookie", "Accept"))
        return response

    def process_view(
        self, request: _CachingRequest, view_func: Any, view_args: tuple[Any, ...], view_kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if request.method not in _CACHEABLE_METHODS:
            return None
        options = _options(view_func)
        if options is None:
            return None
        who = _identify(request, view_func)
        if who is None:
            return None
        accept = request.headers.get("Accept", "")
        query = urlencode(sorted(request.GET.lists()), doseq=True)
        key = f"resp:{who}:{request.path}?{query}|{accept}"
        tags = options.tags(request, **view_kwargs) if callable(options.tags) else options.tags
        request._response_cache = _Pending(key, options, list(tags))
        if "no-cache" in request.headers.get("Cache-Control", "").lower():
            return None
        entry = _backend(options.cache_alias).get(key)
        if entry is None:
            return None
        request._response_cache = None  # a hit: nothing to store afterwards
        if _matches(request.headers.get("If-None-Match", ""), entry["etag"]):
            response = self._not_modified(entry["etag"])
        else:
            response = HttpResponse(entry["content"], headers=entry["headers"])
            response["ETag"] = entry["etag"]
            response["X-Cache"] = "HIT"
        patch_vary_headers(response, ("Authorization", "Cookie", "Accept"))
        return response

    @staticmethod
    def _not_modified(etag: str) -> HttpResponse:
        response = HttpResponseNotModified()
        response["ETag"] = etag
        return response
