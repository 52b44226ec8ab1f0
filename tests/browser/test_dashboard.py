"""The operations dashboard in a real browser: sign in, charts drawn from data, a pushed sample
changes a value, an alert is acknowledged from the page, and the page fits a phone."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from playwright.sync_api import expect

from monitoring import live
from monitoring.alerting.models import Alert
from monitoring.models import SystemSnapshot
from tests.alerts.conftest import make_rule
from tests.analytics.seed import request_rollup
from tests.browser.conftest import off_loop, screenshot, script_errors, sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


def seed_samples(count: int = 30) -> None:
    now = datetime.now(tz=UTC)
    SystemSnapshot.objects.bulk_create([
        SystemSnapshot(timestamp=now - timedelta(seconds=60 * (count - i)), host="web-1", cpu_percent=20 + i % 7,
                       memory_percent=55 + i % 3, disk_percent=63.0, load_1=0.5)
        for i in range(count)])


def seed_requests(minutes: int = 30) -> None:
    """Minute rollups as the request metrics leave them: 20-40 requests a minute, a 500 now and then."""
    this_minute = datetime.now(tz=UTC).replace(second=0, microsecond=0)
    for i in range(minutes):
        n = 20 + i % 20
        request_rollup(this_minute - timedelta(minutes=minutes - i), latencies=[0.02] * (n - 2) + [0.25, 0.8],
                       statuses={200: n - 1, 500: 1} if i % 5 == 0 else {200: n})


def firing_alert() -> Alert:
    rule = make_rule(name="disk-almost-full", metric="disk_percent", threshold=60.0, severity="critical")
    now = datetime.now(tz=UTC)
    return Alert.objects.create(rule=rule, fingerprint="browser-test", metric="disk_percent", severity="critical",
                                state="firing", value=63.0, threshold=60.0, message="Disk at 63% (limit 60%)",
                                started_at=now - timedelta(minutes=5), fired_at=now - timedelta(minutes=4))


# For the failure message: which elements stick out of a 375 px screen.
WIDER_THAN_SCREEN = """[...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > 376)
    .slice(0, 8).map(e => `${e.tagName}.${e.className}#${e.id}`)"""


def points(page, chart_id: str) -> int:
    return int(page.get_attribute(f"#{chart_id}", "data-points") or 0)


def test_the_dashboard_draws_data_updates_live_and_acknowledges(browser, live_url):
    make_user("opsstaff", staff=True)
    seed_samples()
    seed_requests()
    alert = firing_alert()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    errors = script_errors(page)
    exports: list[str] = []
    page.on("request", lambda request: exports.append(request.url) if "/export/metrics" in request.url else None)
    sign_in(page, live_url, "opsstaff", "/dashboard/")

    # Charts: a canvas each, and the system chart has the seeded samples (3 series x 30).
    expect(page.locator("#chart-system canvas")).to_have_count(1)
    expect(page.locator("#chart-requests canvas")).to_have_count(1)
    page.wait_for_function("Number(document.querySelector('#chart-system').dataset.points) >= 90")
    # The export's rows, rendered with the page: rate and errors per minute (2 x 30), p50/p95/p99 (3 x 30).
    page.wait_for_function("Number(document.querySelector('#chart-requests').dataset.points) >= 60")
    page.wait_for_function("Number(document.querySelector('#chart-latency').dataset.points) >= 90")
    expect(page.locator("#live-status")).to_have_text("live", timeout=10_000)
    expect(page.locator("#v-users-sub")).to_contain_text("today")  # the overview filled the tiles

    # A new sample pushed to the monitoring group changes the CPU tile and grows the chart.
    before = points(page, "chart-system")
    sample = SystemSnapshot.objects.create(timestamp=datetime.now(tz=UTC), host="web-1", cpu_percent=77.7,
                                           memory_percent=50.0, disk_percent=63.0)
    assert off_loop(live.send, live.sample_event(sample))
    expect(page.locator("#v-cpu")).to_have_text("77.7%", timeout=10_000)
    assert points(page, "chart-system") == before + 3
    expect(page.locator("#events")).to_contain_text("Sample from web-1: CPU 77.7%")
    assert "{" not in page.inner_text("#events")  # readable lines, never raw JSON

    # Acknowledge the alert from the page: the button is a real button, usable from the keyboard.
    row = page.locator(f'[data-alert-row="{alert.id}"]')
    expect(row).to_contain_text("disk-almost-full")
    screenshot(page, "dashboard")
    row.get_by_role("button", name="Acknowledge disk-almost-full").focus()
    page.keyboard.press("Enter")
    expect(row.locator(".badge.ok")).to_have_text("acknowledged", timeout=10_000)
    alert.refresh_from_db()
    assert alert.acknowledged_at is not None and alert.acknowledged_by.username == "opsstaff"
    expect(page.locator("#events")).to_contain_text("You acknowledged “disk-almost-full”")

    # The range selector reloads from the export API: 7 days is read from the hourly rollups.
    from monitoring.services import system_rollup

    assert system_rollup() > 0
    page.get_by_role("button", name="7 d").click()
    expect(page.get_by_role("button", name="7 d")).to_have_attribute("aria-pressed", "true")
    page.wait_for_function("!document.body.hasAttribute('aria-busy')")
    page.wait_for_function("Number(document.querySelector('#chart-system').dataset.points) >= 3")
    assert len(exports) == 1 and "step=auto" in exports[0]  # the first paint came with the page

    # A phone's width: nothing wider than the screen.
    page.set_viewport_size({"width": 375, "height": 800})
    time.sleep(0.3)  # let the charts' resize observer run
    screenshot(page, "dashboard-375px")
    assert page.evaluate("document.documentElement.scrollWidth") <= 375, page.evaluate(WIDER_THAN_SCREEN)
    assert errors == []
    page.close()


def test_someone_who_is_not_staff_is_asked_to_sign_in(browser, live_url):
    make_user("learner")
    page = browser.new_page()
    page.goto(f"{live_url}/dashboard/")
    assert page.url.startswith(f"{live_url}/accounts/login/?next=/dashboard/")
    page.fill("#id_username", "learner")
    page.fill("#id_password", "wrong")
    page.click("button[type=submit]")
    expect(page.locator(".errors")).to_be_visible()
    page.close()
