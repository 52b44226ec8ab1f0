"""The chat page in two real browsers: live messages both ways, presence, a notification as it
arrives, and a reconnect in the middle: what was said during the gap appears once, after it."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import off_loop, screenshot, script_errors, sign_in
from tests.conftest import make_user

pytestmark = pytest.mark.django_db(transaction=True)


class Line:
    """A page's WebSocket line through Playwright's router, which the test can cut and restore."""

    def __init__(self, page: Any) -> None:
        self.up = True
        self.links: list[tuple[Any, Any]] = []
        self.sent: list[dict[str, Any]] = []  # the page's frames, in order
        page.route_web_socket(re.compile(r"/ws/connect"), self.connect)

    def connect(self, socket: Any) -> None:
        if not self.up:
            socket.close()
            return
        server = socket.connect_to_server()

        def forward(message: str | bytes) -> None:
            self.sent.append(json.loads(message))
            server.send(message)

        socket.on_message(forward)
        server.on_message(socket.send)
        self.links.append((socket, server))

    def cut(self) -> None:
        self.up = False
        for socket, server in self.links:
            server.close()
            socket.close()
        self.links.clear()


def new_page(browser: Any) -> Any:
    """A browser context of its own: its own cookies, so its own signed-in user."""
    return browser.new_context(viewport={"width": 1200, "height": 800}).new_page()


def join(page: Any, room: str) -> None:
    page.fill("#room-name", room)
    page.press("#room-name", "Enter")
    expect(page.locator("#room-title")).to_have_text(f"# {room}")


def send(page: Any, text: str) -> None:
    page.fill("#message", text)
    page.press("#message", "Enter")


def messages(page: Any) -> list[str]:
    return page.locator("#messages li[data-id] .body").all_inner_texts()


def test_two_people_chat_and_one_catches_up_after_a_reconnect(browser, live_url):
    from realtime.services import notification_send

    make_user("alice")
    bob_user = make_user("bob")
    alice, bob = new_page(browser), new_page(browser)
    errors = script_errors(alice) + script_errors(bob)
    bobs_line = Line(bob)
    sign_in(alice, live_url, "alice", "/chat/")
    sign_in(bob, live_url, "bob", "/chat/")
    for page in (alice, bob):
        expect(page.locator("#live-status")).to_have_text("connected", timeout=10_000)

    join(alice, "lobby")
    join(bob, "lobby")
    expect(alice.locator("#present")).to_contain_text("bob")  # bob joined after alice: she saw him come

    send(alice, "hello bob")
    expect(bob.locator("#messages")).to_contain_text("hello bob")
    send(bob, "hi alice")
    expect(alice.locator("#messages")).to_contain_text("hi alice")

    # Bob's line drops; alice goes on talking; his page reconnects by itself and catches up.
    bobs_line.cut()
    expect(bob.locator("#live-status")).to_contain_text("offline", timeout=10_000)
    send(alice, "while you were away 1")
    send(alice, "while you were away 2")
    expect(alice.locator("#messages")).to_contain_text("while you were away 2")
    assert "while you were away" not in bob.inner_text("#messages")
    bobs_line.up = True
    expect(bob.locator("#messages")).to_contain_text("while you were away 2", timeout=20_000)
    expected = ["hello bob", "hi alice", "while you were away 1", "while you were away 2"]
    assert messages(bob) == expected  # in order, each once
    assert messages(alice) == expected
    rejoins = [frame for frame in bobs_line.sent if frame["type"] == "join_room"]
    assert rejoins[0] == {"type": "join_room", "room": "lobby"}
    assert rejoins[-1] == {"type": "join_room", "room": "lobby", "since": 2}  # the last id bob had seen

    # A notification reaches bob's page as it is sent.
    off_loop(notification_send, user=bob_user, title="Course published", message="Intro to AI is live")
    expect(bob.locator("#notifications")).to_contain_text("Course published", timeout=10_000)
    screenshot(alice, "chat-alice")
    screenshot(bob, "chat-bob")
    # Leaving: alice sees bob go, and bob's page no longer shows the room as his.
    bob.get_by_role("button", name="Leave room").click()
    expect(bob.locator("#room-title")).to_have_text("No room yet")
    expect(bob.get_by_role("button", name="Leave room")).to_be_hidden()
    expect(bob.locator("#room-list")).to_contain_text("lobby")  # still open to him: alice is there
    expect(alice.locator("#present")).not_to_contain_text("bob")
    bob.set_viewport_size({"width": 375, "height": 800})
    screenshot(bob, "chat-bob-375px")
    assert bob.evaluate("document.documentElement.scrollWidth") <= 375
    assert errors == []
    for page in (alice, bob):
        page.context.close()
