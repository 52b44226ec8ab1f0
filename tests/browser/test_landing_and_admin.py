"""The landing page and the admin's index in a real browser, with screenshots."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import screenshot, script_errors, sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_landing_page_leads_to_every_part_and_the_admin_shows_the_key_numbers(browser, live_url):
    make_user("admin1", staff=True)
    page = browser.new_page(viewport={"width": 1200, "height": 800})
    errors = script_errors(page)
    page.goto(f"{live_url}/")
    for name in ("Operations dashboard", "Chat", "API documentation", "Administration"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    page.keyboard.press("Tab")  # the skip link comes first, for keyboard users
    expect(page.get_by_role("link", name="Skip to content")).to_be_focused()
    screenshot(page, "landing")

    sign_in(page, live_url, "admin1", "/dashboard/")
    page.goto(f"{live_url}/admin/")  # the same session opens the admin
    expect(page.locator("#key-numbers")).to_contain_text("Active alerts")
    page.get_by_role("link", name="Open the operations dashboard →").click()
    expect(page).to_have_url(f"{live_url}/dashboard/")
    page.go_back()
    screenshot(page, "admin-index")
    assert errors == []
    page.close()
