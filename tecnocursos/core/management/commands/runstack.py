"""Run the whole stack in the foreground: daphne (HTTP + WebSocket), a Celery
worker and Celery beat. Ctrl-C (or SIGTERM) stops all three cleanly; if one dies,
the others are stopped too, so the stack never runs half-up. In the embedded mode this
process owns the embedded Redis (manage.py started it) and it stops with the stack."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

STOP_GRACE_SECONDS = 15


def stack_commands(host: str, port: int, concurrency: int) -> dict[str, list[str]]:
    py = sys.executable
    return {
        "web": [py, "-m", "daphne", "-b", host, "-p", str(port), "--proxy-headers",
                "tecnocursos.asgi:application"],
        "worker": [py, "-m", "celery", "-A", "tecnocursos", "worker", "--loglevel", "INFO",
                   "--concurrency", str(concurrency), "--hostname", "worker@%h"],
        "beat": [py, "-m", "celery", "-A", "tecnocursos", "beat", "--loglevel", "INFO",
                 "--scheduler", "django_celery_beat.schedulers:DatabaseScheduler",
                 "--pidfile", ""],
    }


class Command(BaseCommand):
    help = "Start daphne, a Celery worker and Celery beat together; Ctrl-C stops them all."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--concurrency", type=int, default=2)

    def handle(self, *args: Any, host: str, port: int, concurrency: int, **options: Any) -> None:
        base = f"http://{host}:{port}"
        self.stdout.write(self.style.SUCCESS("TecnoCursos AI is starting:"))
        self.stdout.write(f"  admin      {base}/admin/")
        self.stdout.write(f"  API docs   {base}/api/docs/")
        self.stdout.write(f"  dashboard  {base}/dashboard/")
        self.stdout.write(f"  websocket  ws://{host}:{port}/ws/connect?token=<access>")
        redis = "embedded (var/redis.sock)" if settings.EMBEDDED_REDIS else "REDIS_URL"
        self.stdout.write(f"  database   {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, redis {redis}")
        self.stdout.write("Press Ctrl-C to stop.")
        procs = {
            name: subprocess.Popen(cmd, start_new_session=True)  # signals are ours to forward
            for name, cmd in stack_commands(host, port, concurrency).items()
        }
        stopping = False

        def request_stop(signum: int, frame: Any) -> None:
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGINT, request_stop)
        signal.signal(signal.SIGTERM, request_stop)
        exit_code = 0
        while not stopping:
            dead = {name: p.returncode for name, p in procs.items() if p.poll() is not None}
            if dead:
                self.stderr.write(f"stopping: {', '.join(f'{n} exited with {c}' for n, c in dead.items())}")
                exit_code = 1
                break
            time.sleep(0.2)
        self._stop(procs)
        # The embedded Redis (if any) belongs to this process (manage.py started it): it stops as we exit.
        self.stdout.write("Stopped.")
        if exit_code:
            sys.exit(exit_code)

    def _stop(self, procs: dict[str, subprocess.Popen]) -> None:
        for proc in procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # celery: warm shutdown; daphne: graceful close
        deadline = time.monotonic() + STOP_GRACE_SECONDS
        for name, proc in procs.items():
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.stderr.write(f"{name} did not stop in time; killing it")
                proc.kill()
                proc.wait()
