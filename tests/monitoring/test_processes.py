from __future__ import annotations

import os

import pytest

from monitoring.processes import ProcessFinder, classify


@pytest.mark.parametrize(("cmdline", "role"), [
    (["/venv/bin/python", "-m", "daphne", "-b", "0.0.0.0", "tecnocursos.asgi:application"], "daphne"),
    (["/venv/bin/daphne", "-p", "8000", "tecnocursos.asgi:application"], "daphne"),
    (["/venv/bin/python", "-m", "celery", "-A", "tecnocursos", "worker", "--concurrency", "2"], "celery_worker"),
    (["/venv/bin/celery", "-A", "tecnocursos", "beat", "--scheduler", "x"], "celery_beat"),
    (["python", "manage.py", "runstack"], "runstack"),
    (["python", "manage.py", "runserver"], "web"),
    (["python", "manage.py", "migrate"], None),
    (["/usr/bin/celery", "-A", "x", "inspect", "ping"], None),
    (["bash"], None),
    ([], None),
])
def test_processes_are_recognised_by_their_command_line(cmdline, role):
    assert classify(cmdline) == role


def test_only_processes_started_from_the_project_count_and_pid_files_add_the_rest(tmp_path):
    pid_file = tmp_path / "redis.pid"
    pid_file.write_text(str(os.getpid()))
    finder = ProcessFinder(root=str(tmp_path), pid_files={"redis": pid_file})
    roles = {pid: role for pid, (role, _) in finder.discover().items()}
    assert roles == {os.getpid(): "redis"}  # this test process, named by the pid file
    reading = finder.read()[0]
    assert reading.pid == os.getpid() and reading.rss > 0 and reading.threads >= 1
