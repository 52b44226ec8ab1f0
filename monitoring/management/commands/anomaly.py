"""``manage.py anomaly replay IN.csv OUT.csv``: a series through the anomaly detector.

Reads ``timestamp,value`` rows, streams them through the same engine the monitoring
app uses (monitoring/anomaly), in time order and never looking ahead, and writes
``timestamp,value,anomaly_score,alert`` (NAB's results format plus our alert state).
Bad input stops with a one-line message naming the line; OUT.csv is written atomically,
so a failed run leaves no partial file.
"""

from __future__ import annotations

import sys
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from tqdm import tqdm

from monitoring.anomaly import MetricDetector
from monitoring.anomaly.replay import ReplayError, read_series, replay, write_results


class Command(BaseCommand):
    help = "Anomaly detection tools. `replay IN.csv OUT.csv` scores a timestamp,value series offline."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
        replay_parser = actions.add_parser(
            "replay", help="Stream a timestamp,value CSV through the detector; write "
                           "timestamp,value,anomaly_score,alert.")
        replay_parser.add_argument("input", metavar="IN.csv", help="CSV with the header timestamp,value")
        replay_parser.add_argument("output", metavar="OUT.csv", help="where to write the scored rows")
        replay_parser.add_argument(
            "--allow-unsorted", action="store_true",
            help="stream rows in file order even where a timestamp goes back (some NAB files do)")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "replay":
            self._replay(options["input"], options["output"], allow_unsorted=options["allow_unsorted"])

    def _replay(self, source: str, target: str, *, allow_unsorted: bool) -> None:
        try:
            rows = read_series(source, allow_unsorted=allow_unsorted)
            with tqdm(total=len(rows), unit="pt", desc="replay", disable=not sys.stderr.isatty(),
                      file=sys.stderr) as bar:
                onsets = write_results(target, replay(rows, MetricDetector(), progress=bar.update))
        except ReplayError as error:
            raise CommandError(str(error)) from None
        self.stdout.write(f"Replayed {len(rows)} points from {source}: {onsets} alerts raised; wrote {target}")
