"""Every command README.md and docs/*.md show runs, as written (issue 17, "Every documented command runs").

The test reads each fenced block of README.md and docs/*.md. A shell block (``sh``, ``bash``, ``shell`` or no
language) that holds a ``docintel`` command either runs here, or carries a marker right before it saying why it
cannot (``<!-- docs-test: skip: REASON -->``). A skipped block's ``docintel`` commands, including the ones
``docker-compose run SERVICE ...`` and ``docker run IMAGE ...`` hand to the image's ``docintel`` entrypoint, are
still checked to exist with ``docintel <command> --help``.

How a block runs:

- Each document is one shell session in its own throwaway folder: its blocks run in order, a line at a time,
  in ``bash`` with the venv's ``docintel`` first on ``PATH``; what a line exports (``export``, ``KEY=...``) is
  in the environment of every later line of that document. ``. .venv/bin/activate`` is what the session
  already has. Continuation lines are joined and comments stripped; ``&&`` chains and ``| jq`` pipes run as
  written (with ``pipefail``, so a failing ``docintel`` is not hidden by ``jq``).
- The session has a throwaway SQLite catalogue (the default ``docintel.db`` in its folder), a PII key file
  (``DOCINTEL_PII_KEY_FILE``, as README's "Using it" block makes), a copy of ``config/`` (``profiles approve``
  writes into it), the suite's private Redis where the document is about queues, and the Graph emulator where
  a command talks to Microsoft 365.
- The placeholders the documents use are made real by :data:`PLACEHOLDER_FILES` (files written under the
  documented names, so the command text is unchanged) and :data:`SUBSTITUTIONS` (absolute paths, ports and
  values only known at run time, such as an API key a previous line printed); nothing else in the text changes.
- Long-running commands (``serve``, ``worker`` without ``--burst``, ``graph-emulator``) are started, seen to be
  up (``/healthz`` answers, the worker registers in Redis, the port answers) and stopped with SIGTERM: they must
  exit with status 0. A line ending in ``&`` keeps running until the end of its block.
- A line must exit 0 (``scan`` may exit 1: some documents failed, as ``docintel scan --help`` says), and its
  output is checked where it is cheap: ``--out`` files exist and have content, ``--json`` prints JSON.
  A refused command or option fails the test naming the document and line.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis
from rq import Worker

from docintel.enrich.hashing import generate_key_file
from docintel.samples import SAMPLE_FILES, content, pdf

REPO = Path(__file__).resolve().parents[1]
DOCUMENTS = ("README.md", *sorted(str(path.relative_to(REPO)) for path in (REPO / "docs").glob("*.md")))
VENV_BIN = Path(sys.executable).parent
DOCINTEL = VENV_BIN / "docintel"

# Fenced blocks in these languages are shell; others (python, text...) are not run.
SHELL_LANGUAGES = frozenset({"", "sh", "bash", "shell", "console"})
# The marker a document puts right before a block that cannot run here: <!-- docs-test: skip: REASON -->
SKIP_MARKER = re.compile(r"<!--\s*docs-test:\s*skip:\s*(?P<reason>.*?)\s*-->")
FENCE = re.compile(r"^(?P<fence>```+|~~~+)\s*(?P<lang>[\w+-]*)")

# Documents whose commands use Redis queues get the suite's private Redis as DOCINTEL_REDIS_URL. Others run as a
# single machine does (no Redis): docs/invoices.md's `serve` then processes invoices in-process, as it says first.
REDIS_DOCUMENTS = frozenset({"docs/crawling.md"})
# Documents whose commands reach Microsoft 365 (`api-key create --site`; workers of crawl queues need Graph
# credentials to start) get the environment docs/crawling.md section 2 describes, for a Graph emulator the test starts.
GRAPH_DOCUMENTS = frozenset({"docs/crawling.md", "docs/invoices.md"})
# Sources a reader adds to config/sources.yaml before a document's commands make sense, as the document tells them
# ("uncomment and point at a mount"): document -> YAML appended to the session's copy. {folder} is the session's.
EXTRA_SOURCES = {
    "docs/crawling.md": """
  - name: teams
    kind: share
    roots: ['\\\\san01\\teams']
    path_map: {'\\\\san01\\teams': '{folder}/shares'}
""",
}

# Document placeholders, written into the session folder under the documented names from the sample generators
# (docintel/samples: synthetic people, valid-checksum identifiers): documented name -> sample it is made from.
SAMPLES_BY_NAME = {sample.name: sample for sample in SAMPLE_FILES}
PLACEHOLDER_FILES: dict[str, Callable[[], bytes | None]] = {
    "invoice.pdf": SAMPLES_BY_NAME["invoice.pdf"].build,
    "letter.pdf": lambda: pdf.document_pdf(content.recruitment_letter()),
    "contract.pdf": lambda: pdf.document_pdf(content.contract()),
    "shares/Finance/invoice.pdf": SAMPLES_BY_NAME["invoice.pdf"].build,
    "shares/Finance/budget-2025-26.xlsx": SAMPLES_BY_NAME["budget-2025-26.xlsx"].build,
    "shares/HR/recruitment-letter.txt": SAMPLES_BY_NAME["recruitment-letter.txt"].build,
    "shares/HR/payroll-summary.csv": SAMPLES_BY_NAME["payroll-summary.csv"].build,
    "shares/Legal/contract.pdf": lambda: pdf.document_pdf(content.contract()),
}
# Text replaced in a command before it runs: documented text -> session value (a {name} of DocSession.values).
SUBSTITUTIONS = {
    "/mnt/shares/Finance": "shares/Finance",
    "/mnt/shares/HR": "shares/HR",
    "/mnt/shares/Legal": "shares/Legal",
    "8765": "{graph_port}",  # the emulator's documented port: a free one here (and the next for downloads)
    "8080": "{serve_port}",  # serve's documented port: a free one here
    "https://docintel.council.example": "{serve_url}",  # a `docintel serve` the test starts for the curl examples
    "dik_...": "{api_key}",  # the latest key `docintel api-key create` printed in the document (all of its drives)
    "KEY_ID": "{key_id}",  # ... and its id
    "JOB_ID": "{job_id}",  # the job the first curl example created
    "b!Xy...": "{invoice_drive_id}",  # a PDF invoice in the emulated tenant's Finance library
    "01ABC...": "{invoice_item_id}",
}
# What an interactive command reads from standard input (not a terminal here): a password, per `--help`.
STDIN_FOR = {("user", "create"): "documented-commands-pw-7\n", ("user", "set-password"): "documented-commands-pw-8\n"}
# Subcommands that may exit 1 without being refused: `scan` when some documents failed.
MAY_EXIT_1 = frozenset({"scan"})

COMMAND_TIMEOUT_SECONDS = 240
# A block loads the models in several processes; on a machine shared by many test runs that takes minutes.
BLOCK_TIMEOUT_SECONDS = 900
READY_TIMEOUT_SECONDS = 180
STOP_TIMEOUT_SECONDS = 60
WORKER_SETTLE_SECONDS = 3


@dataclass(frozen=True)
class DocLine:
    """One logical command line of a document: continuations joined, comment stripped."""

    document: str
    lineno: int
    text: str

    @property
    def where(self) -> str:
        """``docs/x.md:12``, for failure messages."""
        return f"{self.document}:{self.lineno}"


@dataclass(frozen=True)
class DocBlock:
    """A fenced block of a document, with the reason given when it cannot run here."""

    document: str
    lineno: int
    language: str
    lines: tuple[DocLine, ...]
    skip_reason: str | None

    @property
    def is_shell(self) -> bool:
        """Whether the block is shell (and so must run or say why not)."""
        return self.language in SHELL_LANGUAGES

    @property
    def docintel_commands(self) -> list[tuple[DocLine, list[str]]]:
        """Each docintel command of the block as (line, argv after ``docintel``), including those in images."""
        return [(line, argv) for line in self.lines for argv in docintel_argvs(line.text)]


def strip_comment(line: str) -> str:
    """``line`` without its shell comment (a ``#`` that starts a word outside quotes)."""
    quote = ""
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = ""
            elif char == "\\" and quote == '"':
                continue
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or line[index - 1].isspace()):
            return line[:index].rstrip()
    return line.rstrip()


def parse_blocks(document: str, text: str | None = None) -> list[DocBlock]:
    """The fenced blocks of ``document`` (a path relative to the repository), in order."""
    lines = (text if text is not None else (REPO / document).read_text(encoding="utf-8")).splitlines()
    blocks: list[DocBlock] = []
    index = 0
    while index < len(lines):
        opening = FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        previous = next((lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), "")
        marker = SKIP_MARKER.search(previous)
        start, body = index, []
        index += 1
        while index < len(lines) and not lines[index].startswith(opening["fence"]):
            body.append((index + 1, lines[index]))
            index += 1
        index += 1
        reason = marker["reason"] if marker else None
        blocks.append(
            DocBlock(document, start + 1, opening["lang"].lower(), tuple(logical_lines(document, body)), reason)
        )
    return blocks


def logical_lines(document: str, body: list[tuple[int, str]]) -> Iterator[DocLine]:
    """Join continuation lines (a trailing backslash), strip comments and drop blank lines."""
    pending: list[str] = []
    first = 0
    for lineno, raw in body:
        if not pending:
            first = lineno
        if raw.rstrip().endswith("\\"):
            pending.append(raw.rstrip()[:-1].strip())
            continue
        pending.append(strip_comment(raw).strip())
        joined = " ".join(part for part in pending if part)
        pending = []
        if joined:
            yield DocLine(document, first, joined)


def shell_segments(text: str) -> list[list[str]]:
    """The simple commands of a line as word lists: split at ``&&``, ``||``, ``;``, ``|`` and ``&``."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    segments: list[list[str]] = [[]]
    for word in lexer:
        if word and set(word) <= set(";&|"):
            segments.append([])
        else:
            segments[-1].append(word)
    return [segment for segment in segments if segment]


def _without_assignments(words: list[str]) -> list[str]:
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words = words[1:]
    return words


def _after_options(words: list[str], valued: frozenset[str]) -> list[str]:
    """The words after leading options (``valued`` options take the next word)."""
    index = 0
    while index < len(words) and words[index].startswith("-"):
        index += 2 if words[index] in valued else 1
    return words[index:]


COMPOSE_RUN_VALUED = frozenset({"-e", "--env", "--name", "-u", "--user", "-w", "--workdir", "-v", "--volume", "-p"})
DOCKER_RUN_VALUED = frozenset(
    {"-e", "--env", "-v", "--volume", "--restart", "--name", "-p", "--network", "-u", "--user", "-w", "--workdir",
     "--env-file", "--entrypoint", "-m", "--memory"}
)  # fmt: skip


def docintel_argvs(text: str) -> list[list[str]]:
    """The docintel argument lists a line runs: ``docintel ...`` itself, or handed to the image's entrypoint."""
    found = []
    for segment in shell_segments(text):
        words = _without_assignments(segment)
        if not words:
            continue
        if words[0] == "docintel":
            found.append(words[1:])
        elif words[0] == "docker-compose" or words[:2] == ["docker", "compose"]:
            rest = words[2:] if words[0] == "docker" else words[1:]
            if rest[:1] == ["run"]:
                service_and_args = _after_options(rest[1:], COMPOSE_RUN_VALUED)
                if len(service_and_args) > 1:  # no arguments: the service's own command from compose.yaml
                    found.append(service_and_args[1:])
        elif words[:2] == ["docker", "run"]:
            image_and_args = _after_options(words[2:], DOCKER_RUN_VALUED)
            if image_and_args and image_and_args[0].startswith("docintel") and len(image_and_args) > 1:
                found.append(image_and_args[1:])
    return found


def command_path(argv: list[str]) -> list[str]:
    """The sub-command words of a docintel argv (``["api-key", "create"]``), without options and values."""
    words = _after_options(argv, frozenset({"--config-dir"}))
    path = words[:1]
    if words[:1] and words[0] in GROUPS and len(words) > 1 and not words[1].startswith("-"):
        path.append(words[1])
    return path


# docintel's command groups (a sub-command follows them); test_groups_are_the_clis_groups keeps this in step.
GROUPS = frozenset({"api-key", "profiles", "user", "key", "sar"})


# --- the throwaway world -----------------------------------------------------------------------------------------


def _free_port(pair: bool = False) -> int:
    """A free port on loopback (with the next one free too when ``pair``: the emulator serves downloads there)."""
    for _ in range(50):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = int(sock.getsockname()[1])
        if not pair:
            return port
        with socket.socket() as sock, contextlib.suppress(OSError):
            sock.bind(("127.0.0.1", port + 1))
            return port
    raise RuntimeError("no free port pair on loopback")


def _port_answers(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _http_status(url: str) -> int | None:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except OSError:
        return None


@dataclass
class Background:
    """A long-running command started by the test, with its log."""

    line: DocLine
    process: subprocess.Popen[bytes]
    log: Path

    def tail(self) -> str:
        """The end of its output, for failure messages."""
        return self.log.read_text(errors="replace")[-2000:] if self.log.exists() else ""

    def stop(self) -> None:
        """SIGTERM: it must end, cleanly, and leave no process of its own behind.

        Clean is status 0, or the SIGTERM itself: uvicorn (``serve``, ``graph-emulator``) shuts down gracefully
        and then re-raises the signal it caught so its parent sees why it ended, and systemd and Docker count
        that as a clean stop too. What it started (the invoice pool's processes) must be gone with it.
        """
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=STOP_TIMEOUT_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
                pytest.fail(f"{self.line.where}: `{self.line.text}` did not stop on SIGTERM\n{self.tail()}")
        assert self.process.returncode in (0, -signal.SIGTERM), (
            f"{self.line.where}: `{self.line.text}` exited {self.process.returncode} on SIGTERM\n{self.tail()}"
        )
        deadline = time.monotonic() + 10
        while _group_alive(self.process.pid):
            if time.monotonic() > deadline:
                os.killpg(self.process.pid, signal.SIGKILL)
                pytest.fail(f"{self.line.where}: `{self.line.text}` left processes running after it stopped")
            time.sleep(0.2)


def _group_alive(group: int) -> bool:
    """Whether any process of process group ``group`` is still running (the started command's own group)."""
    try:
        os.killpg(group, 0)
    except ProcessLookupError:
        return False
    return True


@dataclass
class DocSession:
    """One document's shell session: its folder, environment, services and what earlier lines printed."""

    document: str
    folder: Path
    env: dict[str, str]
    values: dict[str, str] = field(default_factory=dict)
    redis_url: str | None = None
    background: list[Background] = field(default_factory=list)
    services: list[Background] = field(default_factory=list)
    started: int = 0

    def substitute(self, text: str) -> str:
        """``text`` with the documented placeholders replaced by this session's values."""
        for documented, replacement in SUBSTITUTIONS.items():
            pattern = (r"\b" if documented[0].isalnum() else "") + re.escape(documented)
            pattern += r"\b" if documented[-1].isalnum() else ""
            if not re.search(pattern, text):
                continue
            names = re.findall(r"{(\w+)}", replacement)
            if "serve_url" in names:
                self._ensure_server()
            if {"invoice_drive_id", "invoice_item_id"} & set(names):
                self._find_sharepoint_invoice()
            missing = [name for name in names if name not in self.values]
            if missing:
                pytest.fail(f"{self.document}: `{documented}` has no value: {missing[0]} comes from an earlier line")
            value = replacement.format(**self.values)
            text = re.sub(pattern, lambda _match, value=value: value, text)
        return text

    def _ensure_server(self) -> None:
        """Start `docintel serve` on a free port for the document's curl examples (stopped when the session ends)."""
        if "serve_url" in self.values:
            return
        port = _free_port()
        command = f"docintel serve --port {port}"
        line = DocLine(self.document, 0, f"{command} (started by the test for the curl examples)")
        self.services.append(self._start(line, command, shlex.split(command)[1:]))
        self.values["serve_url"] = f"http://127.0.0.1:{port}"

    def _find_sharepoint_invoice(self) -> None:
        """The drive and item ids of a PDF invoice in the emulated Finance library, read through Graph."""
        if "invoice_item_id" in self.values:
            return
        base = self.env["DOCINTEL_GRAPH_BASE_URL"]
        headers = {"Authorization": f"Bearer {self.env['DOCINTEL_GRAPH_TOKEN']}"}

        def get(path: str) -> Any:
            response = httpx.get(f"{base}/{path}", headers=headers, timeout=30)
            response.raise_for_status()
            return response.json()

        finance = next(site for site in get("sites?search=*")["value"] if site.get("displayName") == "Finance")
        drive = get(f"sites/{finance['id']}/drives")["value"][0]
        item = next(
            item for item in get(f"drives/{drive['id']}/root/delta")["value"]
            if "file" in item and "invoice" in item["name"].lower() and item["name"].lower().endswith(".pdf")
        )  # fmt: skip
        self.values.update(invoice_drive_id=drive["id"], invoice_item_id=item["id"])

    def close(self) -> None:
        """Stop the services started for the session; each must exit cleanly."""
        while self.services:
            self.services.pop().stop()

    def run_block(self, block: DocBlock) -> None:
        """Run every line of ``block``, then stop what it left running."""
        if self.redis_url:  # each block starts with empty queues, as a reader's fresh Redis would be
            Redis.from_url(self.redis_url).flushdb()
        try:
            for line in block.lines:
                self.run_line(line)
        finally:
            while self.background:
                self.background.pop().stop()

    def run_line(self, line: DocLine) -> None:
        """Run one logical line as documented and check what it did."""
        if re.fullmatch(r"(\.|source)\s+\.venv/bin/activate", line.text):
            return  # the session already has the venv's bin first on PATH
        text = self.substitute(line.text)
        argvs = docintel_argvs(text)
        long_running = [argv for argv in argvs if _is_long_running(argv)]
        if text.endswith("&") and not text.endswith("&&"):
            self.background.append(self._start(line, text[:-1].strip(), argvs[0] if argvs else []))
            return
        if long_running:
            assert len(argvs) == 1, f"{line.where}: a long-running command must be alone on its line"
            running = self._start(line, text, argvs[0])
            if command_path(argvs[0]) == ["serve"] and "serve_url" not in self.values:
                # The document's later blocks (curl examples) talk to it, as its reader's would: keep it up.
                self.services.append(running)
                host, port = _option(argvs[0], "--host", "127.0.0.1"), _option(argvs[0], "--port", "8080")
                self.values["serve_url"] = f"http://{host}:{port}"
            else:
                running.stop()
            return
        self._run_to_end(line, text, argvs)

    def _run_to_end(self, line: DocLine, text: str, argvs: list[list[str]]) -> None:
        env_file = self.folder / ".docs-test-env"
        script = f"set -a -o pipefail\n{text}\n__status=$?\nenv -0 > {shlex.quote(str(env_file))}\nexit $__status\n"
        stdin = "".join(STDIN_FOR.get(tuple(command_path(argv)), "") for argv in argvs)
        completed = subprocess.run(
            ["bash", "-c", script], cwd=self.folder, env=self.env, input=stdin.encode(), capture_output=True,
            timeout=COMMAND_TIMEOUT_SECONDS, check=False,
        )  # fmt: skip
        stdout, stderr = completed.stdout.decode(errors="replace"), completed.stderr.decode(errors="replace")
        print(f"{line.where}: `{text}` exited {completed.returncode}")  # shown by pytest -rP or on failure
        may_exit_1 = argvs and all(command_path(argv)[:1] and command_path(argv)[0] in MAY_EXIT_1 for argv in argvs)
        assert completed.returncode in ({0, 1} if may_exit_1 else {0}), (
            f"{line.where}: `{line.text}` exited {completed.returncode}\n"
            f"stdout: {stdout[-1500:]}\nstderr: {stderr[-1500:]}"
        )
        if env_file.exists():
            self._keep_exports(env_file.read_bytes())
        check_output(self, line, text, argvs, stdout)

    def _keep_exports(self, raw: bytes) -> None:
        exported = dict(item.split("=", 1) for item in raw.decode(errors="replace").split("\0") if "=" in item)
        for name in ("_", "SHLVL", "PWD", "OLDPWD", "__status"):
            exported.pop(name, None)
        self.env = exported

    def _start(self, line: DocLine, text: str, argv: list[str]) -> Background:
        self.started += 1
        log = self.folder / f"background-{self.started}.log"
        connection = Redis.from_url(self.redis_url) if self.redis_url else None
        workers_before = {worker.name for worker in Worker.all(connection=connection)} if connection else set()
        with log.open("wb") as handle:
            process = subprocess.Popen(
                ["bash", "-c", f"exec {text}"], cwd=self.folder, env=self.env, stdout=handle,
                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
            )  # fmt: skip
        running = Background(line, process, log)
        ready = _readiness(argv, connection, workers_before)
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not ready():
            if process.poll() is not None:
                pytest.fail(f"{line.where}: `{line.text}` exited {process.returncode} at start\n{running.tail()}")
            if time.monotonic() > deadline:
                running.stop()
                pytest.fail(f"{line.where}: `{line.text}` not up after {READY_TIMEOUT_SECONDS} s\n{running.tail()}")
            time.sleep(0.3)
        if command_path(argv)[:1] == ["worker"]:
            # rq forks its scheduler process just after the worker registers; a SIGTERM in that instant left the
            # new scheduler process running after the worker exited (seen once at load 20). That race is rq's.
            time.sleep(WORKER_SETTLE_SECONDS)
        return running


def _option(argv: list[str], name: str, default: str) -> str:
    for index, word in enumerate(argv):
        if word == name and index + 1 < len(argv):
            return argv[index + 1]
        if word.startswith(f"{name}="):
            return word.split("=", 1)[1]
    return default


def _is_long_running(argv: list[str]) -> bool:
    path = command_path(argv)
    return path[:1] in (["serve"], ["graph-emulator"]) or (path[:1] == ["worker"] and "--burst" not in argv)


def _readiness(argv: list[str], connection: Redis | None, workers_before: set[str]) -> Callable[[], bool]:
    """A check that says when the command started from ``argv`` is up."""
    name = command_path(argv)[:1]
    if name == ["serve"]:
        url = f"http://{_option(argv, '--host', '127.0.0.1')}:{_option(argv, '--port', '8080')}/healthz"
        return lambda: _http_status(url) == 200
    if name == ["graph-emulator"]:
        port = int(_option(argv, "--port", "8765"))
        return lambda: _port_answers(port)
    if name == ["worker"]:
        assert connection is not None, "a worker needs the document's Redis (REDIS_DOCUMENTS)"
        return lambda: bool({worker.name for worker in Worker.all(connection=connection)} - workers_before)
    raise AssertionError(f"no readiness check for docintel {' '.join(argv)}")


def check_output(session: DocSession, line: DocLine, text: str, argvs: list[list[str]], stdout: str) -> None:
    """Cheap checks that a command did what its document says, and values later lines need."""
    for argv in argvs:
        path = command_path(argv)
        out = _option(argv, "--out", "")
        if out:
            written = session.folder / out
            assert written.is_file() and written.stat().st_size > 0, f"{line.where}: --out {out} was not written"
            data = written.read_bytes()
            if out.endswith(".parquet"):
                assert data[:4] == b"PAR1", f"{line.where}: {out} is not Parquet"
            elif out.endswith(".html"):
                assert b"<html" in data[:2000].lower(), f"{line.where}: {out} is not HTML"
            elif out.endswith((".jsonl", ".csv")):
                rows = data.decode().splitlines()  # a CSV has its header at least; a register may list no contract
                assert rows, f"{line.where}: {out} has no lines"
                if out.endswith(".jsonl"):
                    json.loads(rows[0])
        if path == ["key", "create"]:
            assert (session.folder / argv[-1]).is_file(), f"{line.where}: no key file"
        if path == ["api-key", "create"]:
            issued = re.search(r"\(id (?P<id>\S+), scopes", stdout)
            key = re.search(r"X-API-Key: (?P<key>\S+)", stdout)
            assert issued and key, f"{line.where}: api-key create printed no key: {stdout}"
            session.values.update(api_key=key["key"], key_id=issued["id"])
        if path == ["status"]:
            assert "queue" in stdout, f"{line.where}: status printed no queues: {stdout}"
    if "--json" in text or text.startswith("curl"):
        try:
            answer = json.loads(stdout)
        except json.JSONDecodeError:
            pytest.fail(f"{line.where}: `{line.text}` did not print JSON: {stdout[:500]}")
        if text.startswith("curl"):
            refused = isinstance(answer, dict) and (answer.get("error") or answer.get("status") == "failed")
            assert not refused, f"{line.where}: the API answered {answer}"
            if isinstance(answer, dict) and "job_id" not in session.values and answer.get("id"):
                session.values["job_id"] = str(answer["id"])
        if "| jq ." in text:
            assert answer is not None, f"{line.where}: `{line.text}` printed null"


@contextlib.contextmanager
def _graph_emulator(folder: Path, env: dict[str, str]) -> Iterator[str]:
    port = _free_port(pair=True)
    log = folder / "graph-emulator.log"
    with log.open("wb") as handle:
        process = subprocess.Popen(
            [str(DOCINTEL), "graph-emulator", "--port", str(port)], cwd=folder, env=env, stdout=handle,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + READY_TIMEOUT_SECONDS
        while not _port_answers(port):
            assert process.poll() is None and time.monotonic() < deadline, log.read_text(errors="replace")
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}/v1.0"
    finally:
        process.terminate()
        process.wait(timeout=STOP_TIMEOUT_SECONDS)


# --- the tests -----------------------------------------------------------------------------------------------------

ALL_BLOCKS = [block for document in DOCUMENTS for block in parse_blocks(document)]
COMMAND_BLOCKS = [
    block
    for block in ALL_BLOCKS
    if block.is_shell and (block.docintel_commands or any(line.text.startswith("curl ") for line in block.lines))
]


@pytest.fixture(scope="module")
def sessions(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Callable[[str], DocSession]]:
    """One shell session per document, created on first use; services stopped at the end."""
    made: dict[str, DocSession] = {}
    with contextlib.ExitStack() as stack:

        def session_for(document: str) -> DocSession:
            if document in made:
                return made[document]
            for earlier in made.values():  # documents run one after another: stop the last one's servers
                earlier.close()
            folder = tmp_path_factory.mktemp(Path(document).stem)
            shutil.copytree(REPO / "config", folder / "config")
            if document in EXTRA_SOURCES:
                with (folder / "config" / "sources.yaml").open("a", encoding="utf-8") as sources:
                    sources.write(EXTRA_SOURCES[document].replace("{folder}", str(folder)))
            for name, build in PLACEHOLDER_FILES.items():
                (folder / name).parent.mkdir(parents=True, exist_ok=True)
                (folder / name).write_bytes(build())
            generate_key_file(folder / ".docintel-key")
            env = {
                key: value
                for key, value in os.environ.items()
                if not key.startswith(("DOCINTEL_", "PYTEST_")) and key not in ("PGPASSFILE", "VIRTUAL_ENV")
            }
            env.update(
                PATH=f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}",
                HOME=os.environ.get("HOME", str(folder)),
                DOCINTEL_PII_KEY_FILE=str(folder / ".docintel-key"),
                DOCINTEL_CONFIG_DIR=str(folder / "config"),
            )
            session = DocSession(document, folder, env)
            session.values.update(graph_port=str(_free_port(pair=True)), serve_port=str(_free_port()))
            if document in REDIS_DOCUMENTS:
                session.redis_url = redis_url
                session.env["DOCINTEL_REDIS_URL"] = redis_url
            if document in GRAPH_DOCUMENTS:
                base_url = stack.enter_context(_graph_emulator(folder, env))
                session.env.update(DOCINTEL_GRAPH_BASE_URL=base_url, DOCINTEL_GRAPH_TOKEN="demo")
            made[document] = session
            return session

        yield session_for
        for session in made.values():
            session.close()


@pytest.mark.slow
@pytest.mark.needs_redis
@pytest.mark.timeout(BLOCK_TIMEOUT_SECONDS)
@pytest.mark.parametrize("block", COMMAND_BLOCKS, ids=lambda block: f"{block.document}:{block.lineno}")
def test_documented_block_runs(block: DocBlock, sessions: Callable[[str], DocSession]) -> None:
    """Each shell block with a docintel command runs as written, or says why not and its commands exist."""
    if block.skip_reason is not None:
        assert block.skip_reason, f"{block.document}:{block.lineno}: the docs-test skip marker gives no reason"
        for line, argv in block.docintel_commands:
            path = command_path(argv)
            completed = subprocess.run(
                [str(DOCINTEL), *path, "--help"], capture_output=True, timeout=120, check=False, cwd=REPO
            )
            assert completed.returncode == 0, (
                f"{line.where}: `docintel {' '.join(path)}` does not exist: {completed.stderr.decode()[-500:]}"
            )
            options = re.findall(r"(?<!\S)(--?[A-Za-z][\w-]*)", " ".join(argv))
            help_text = completed.stdout.decode()
            missing = [option for option in options if option.split("=")[0] not in help_text]
            assert not missing, f"{line.where}: `docintel {' '.join(path)}` has no option {', '.join(missing)}"
        pytest.skip(f"{block.document}:{block.lineno}: {block.skip_reason}")
    sessions(block.document).run_block(block)


# --- the reader itself (fast: no services) ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ("docintel scan /mnt/x       # into sqlite:///docintel.db", "docintel scan /mnt/x"),
        ("# only a comment", ""),
        ('docintel find --name "A #1 Person"', 'docintel find --name "A #1 Person"'),
        ("curl -H 'X: a#b' url#frag", "curl -H 'X: a#b' url#frag"),
        ('echo "say \\"#\\"" # note', 'echo "say \\"#\\""'),
    ],
)
def test_strip_comment(line: str, expected: str) -> None:
    """A ``#`` starting a word outside quotes starts a comment; one inside a word or quotes does not."""
    assert strip_comment(line) == expected


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "docintel crawl && docintel worker --burst && docintel status",
            [["crawl"], ["worker", "--burst"], ["status"]],
        ),
        ("docintel analyze contract.pdf --json | jq .contract", [["analyze", "contract.pdf", "--json"]]),
        ("docintel graph-emulator --port 8765 &", [["graph-emulator", "--port", "8765"]]),
        ("DOCINTEL_OCR__DPI=200 docintel scan x", [["scan", "x"]]),
        ("docker-compose run --rm worker status", [["status"]]),
        ("docker-compose run --rm serve api-key create finance-rpa", [["api-key", "create", "finance-rpa"]]),
        ("docker-compose run --rm migrate", []),
        ("docker-compose up -d --scale worker=3", []),
        ("docker run -d -e A=b -v /x:/y:ro docintel:local worker --queues ocr", [["worker", "--queues", "ocr"]]),
        ("make image && make deploy-secrets", []),
        ("curl -s -H 'X-API-Key: $KEY' https://example/v1/jobs/1", []),
    ],
)
def test_docintel_argvs(line: str, expected: list[list[str]]) -> None:
    """The docintel commands of a line: direct, chained, piped, backgrounded, or handed to the image."""
    assert docintel_argvs(line) == expected


def test_blocks_are_read_with_their_lines_and_markers() -> None:
    """Continuations are joined under the first line's number; a marker right before a fence is its skip reason."""
    document = "\n".join(
        [
            "Intro.",
            "",
            "<!-- docs-test: skip: needs a Docker engine -->",
            "```sh",
            "docker run -d \\",
            "  -e A=b \\",
            "  docintel:local status   # in the image",
            "```",
            "```bash",
            "docintel scan /mnt/shares/HR",
            "```",
            "```python",
            "print('docintel scan x')",
            "```",
        ]
    )
    skipped, runnable, python = parse_blocks("docs/example.md", document)
    assert skipped.skip_reason == "needs a Docker engine"
    assert skipped.lines == (DocLine("docs/example.md", 5, "docker run -d -e A=b docintel:local status"),)
    assert skipped.docintel_commands == [(skipped.lines[0], ["status"])]
    assert runnable.skip_reason is None and runnable.lineno == 9 and runnable.lines[0].lineno == 10
    assert not python.is_shell


def test_every_command_block_is_run_or_says_why_not() -> None:
    """The documents have command blocks, and each skipped one gives a reason (the runs are the tests above)."""
    assert {block.document for block in COMMAND_BLOCKS} >= {"README.md", "docs/crawling.md", "docs/invoices.md"}
    for block in COMMAND_BLOCKS:
        assert block.skip_reason is None or block.skip_reason.strip(), f"{block.document}:{block.lineno}: no reason"


def _bare_session(folder: Path) -> DocSession:
    env = {key: value for key, value in os.environ.items() if not key.startswith("DOCINTEL_")}
    env["PATH"] = f"{VENV_BIN}{os.pathsep}{env.get('PATH', '')}"
    return DocSession("docs/example.md", folder, env)


@pytest.mark.parametrize(
    "command",
    [
        "docintel worker --queues invoice --burst",  # the queue is `invoices`: refused by worker's own check
        "docintel scan --no-such-option .",  # refused by click
        "docintel no-such-command",
    ],
)
def test_a_refused_command_fails_naming_its_document_and_line(tmp_path: Path, command: str) -> None:
    """What the code refuses fails the run with the document, the line and the exit status."""
    (block,) = parse_blocks("docs/example.md", f"Text.\n\n```sh\n{command}\n```\n")
    with pytest.raises(AssertionError, match=r"docs/example\.md:4: `.*` exited 2"):
        _bare_session(tmp_path).run_block(block)


def test_exports_carry_on_to_later_lines(tmp_path: Path) -> None:
    """``export`` and plain assignments reach the lines after them, as in the reader's shell."""
    session = _bare_session(tmp_path)
    (block,) = parse_blocks("docs/example.md", "```sh\nexport A=1 B=two\nC=$B-3\n```\n")
    session.run_block(block)
    assert (session.env["A"], session.env["B"], session.env["C"]) == ("1", "two", "two-3")


def test_groups_are_the_clis_groups() -> None:
    """GROUPS names every command group docintel has, so a skipped block's options are checked on the right help."""
    import click

    from docintel.cli import main

    context = click.Context(main)
    groups = {name for name in main.list_commands(context) if isinstance(main.get_command(context, name), click.Group)}
    assert groups == GROUPS
