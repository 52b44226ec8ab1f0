from __future__ import annotations

from django import template

from analytics import summary

register = template.Library()


@register.simple_tag
def key_numbers() -> summary.KeyNumbers:
    return summary.key_numbers()
