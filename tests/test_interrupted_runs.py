"""A `docintel scan` killed with SIGKILL: the next start marks its run interrupted, and `docintel status` shows it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select, update

from docintel.catalogue import tables as t
from docintel.catalogue.store import RUN_INTERRUPTED, RUN_RUNNING, CatalogueStore, open_catalogue
from docintel.settings import get_settings
from workers.commands import status_command

REPO = Path(__file__).resolve().parents[1]


def stored_by(store: CatalogueStore, run_id: str) -> int:
    """Documents the run has stored so far."""
    with store.transaction("count") as connection:
        return int(connection.execute(select(func.count()).where(t.documents.c.run_id == run_id)).scalar_one())


LETTER = "Dear resident,\n\nThe highways team will resurface Station Road in March.\n\nHighways Department\n"


@pytest.mark.slow
def test_killed_scan_is_marked_interrupted_at_the_next_start_and_status_shows_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    share = tmp_path / "share"
    share.mkdir()
    for number in range(400):
        (share / f"notice-{number:03d}.txt").write_text(LETTER * (1 + number % 5), encoding="utf-8")
    catalogue = f"sqlite:///{tmp_path / 'catalogue.db'}"
    env = {
        **os.environ,
        "DOCINTEL_CONFIG_DIR": str(REPO / "config"),
        "DOCINTEL_PII_KEY": "interrupted-runs-test-key-0123456789",
        "DOCINTEL_CATALOGUE_URL": catalogue,
        "DOCINTEL_REDIS_URL": "redis://127.0.0.1:1/0",  # no Redis: status still reports the catalogue
    }
    docintel = str(Path(sys.executable).with_name("docintel"))
    scan = subprocess.Popen(
        [docintel, "scan", str(share), "--catalogue", catalogue, "--no-progress"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    store = open_catalogue(catalogue)
    deadline = time.monotonic() + 180
    # Kill it once it has stored some documents, well before the last.
    while (run := next(iter(store.recent_runs(1)), None)) is None or not stored_by(store, run["id"]):
        assert scan.poll() is None, "the scan ended before it could be killed"
        assert time.monotonic() < deadline, "the scan never stored a document"
        time.sleep(0.05)
    scan.send_signal(signal.SIGKILL)
    scan.wait()
    assert store.get_run(run["id"])["status"] == RUN_RUNNING  # type: ignore[index]  # nobody recorded its end

    empty = tmp_path / "empty"
    empty.mkdir()
    again = subprocess.run(
        [docintel, "scan", str(empty), "--catalogue", catalogue, "--no-progress"],
        env=env,
        capture_output=True,
        check=False,
    )
    assert again.returncode == 0, again.stderr.decode()[-2000:]
    killed = store.get_run(run["id"])
    assert killed is not None and killed["status"] == RUN_INTERRUPTED and killed["finished_at"] is not None
    stored = stored_by(store, run["id"])
    assert 0 < killed["counts"]["processed"] == stored < 400

    for name, value in env.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    status = CliRunner().invoke(status_command, [])
    get_settings.cache_clear()
    assert status.exit_code == 0, status.output
    line = next(line for line in status.output.splitlines() if line.startswith(run["id"]))
    assert line.split()[2] == RUN_INTERRUPTED and f"processed {stored}" in line
    store.close()


def test_a_running_run_of_a_live_process_is_left_alone(tmp_path: Path) -> None:
    store = open_catalogue(f"sqlite:///{tmp_path / 'catalogue.db'}")
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        run_id = store.start_run("elsewhere")
        with store.transaction("test", write=True) as connection:
            connection.execute(update(t.runs).where(t.runs.c.id == run_id).values(pid=sleeper.pid))
        assert store.interrupt_dead_runs() == []
        sleeper.kill()
        sleeper.wait()
        assert store.interrupt_dead_runs() == [run_id]
        assert store.get_run(run_id)["status"] == RUN_INTERRUPTED  # type: ignore[index]
    finally:
        sleeper.kill()
        store.close()
