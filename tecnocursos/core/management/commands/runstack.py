"""Run the whole stack in the foreground: daphne (HTTP + WebSocket; one process per core,
all accepting on one listening socket that this command opens and hands over with --fd), a
Celery worker and Celery beat. Ctrl-C (or SIGTERM) stops all three cleanly; if one dies,
the others are stopped too, so the stack never runs half-up. In the embedded mode this
process owns the embedded Redis (manage.py started it) and it stops with the stack."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

STOP_GRACE_SECONDS = 15


def listening_socket(host: str, port: int) -> socket.socket:
    """One listening socket that every daphne process accepts on (the kernel spreads connections)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    # A reconnect storm (thousands of sockets at once) must queue, not be refused (the kernel caps it at somaxconn).
    sock.listen(4096)
    sock.set_inheritable(True)  # passed to the daphne processes as --fd
    return sock


def stack_commands(fd: int, web_processes: int, concurrency: int) -> dict[str, list[str]]:
    py = sys.executable
    # daphne through tecnocursos.serve: the same command line, with tokens redacted from its access log.
    web = [py, "-m", "tecnocursos.serve", "--fd", str(fd), "--proxy-headers", "tecnocursos.asgi:application"]
    return {
        **{f"web{n + 1}" if web_processes > 1 else "web": web for n in range(web_processes)},
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
        parser.add_argument("--concurrency", type=int, default=2, help="Celery worker processes")
        parser.add_argument("--web-processes", type=int, default=os.cpu_count() or 1,
                            help="daphne processes sharing the port (default: one per core)")

    def handle(self, *args: Any, host: str, port: int, concurrency: int, web_processes: int, **options: Any) -> None:
        if web_processes < 1:
            raise CommandError("--web-processes must be at least 1")
        try:
            listener = listening_socket(host, port)
        except OSError as exc:
            raise CommandError(f"cannot listen on {host}:{port}: {exc.strerror}") from exc
        base = f"http://{host}:{port}"
        self.stdout.write(self.style.SUCCESS("TecnoCursos AI is starting:"))
        self.stdout.write(f"  admin      {base}/admin/")
        self.stdout.write(f"  API docs   {base}/api/docs/")
        self.stdout.write(f"  dashboard  {base}/dashboard/")
        self.stdout.write(f"  websocket  ws://{host}:{port}/ws/connect?token=<access>")
        redis = "embedded (var/redis.sock)" if settings.EMBEDDED_REDIS else "REDIS_URL"
        self.stdout.write(f"  database   {settings.DATABASES['default']['ENGINE'].rsplit('.', 1)[-1]}, redis {redis}")
        self.stdout.write(f"  processes  {web_processes} daphne on one socket, a Celery worker ({concurrency}), beat")
        self.stdout.write("Press Ctrl-C to stop.")
        fd = listener.fileno()
        procs = {
            # New sessions: Ctrl-C reaches only us, and we stop them in order.
            name: subprocess.Popen(cmd, start_new_session=True, pass_fds=(fd,) if name.startswith("web") else ())
            for name, cmd in stack_commands(fd, web_processes, concurrency).items()
        }
        listener.close()  # the daphne processes hold it now
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
