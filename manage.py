#!/usr/bin/env python
import os
import sys

if __name__ == "__main__":
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tecnocursos.settings")
    from tecnocursos.bootstrap import prepare_process

    # Commands that never touch Redis don't start the embedded one.
    prepare_process(needs_redis=sys.argv[1:2] not in (["collectstatic"], ["makemigrations"], ["help"], []))
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)
