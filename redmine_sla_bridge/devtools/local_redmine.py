"""A local Redmine 5 for the demo and the tests: Debian's `redmine` + `redmine-sqlite`.

Everything here is idempotent: `start` installs what is missing, reuses a server that
already answers on the port, and only then boots a new one. It shells out to apt-get
and to Redmine's own `bin/rails`, so it needs root (as CI and the demo machine have).

Facts this module relies on (Debian 12, Redmine 5.0.4):
- Debian's Redmine bundles no app server. The app server is Puma (Debian's `puma`
  package, 5.6), as production runs Redmine: threaded, HTTP/1.1 keep-alive on by
  default. WEBrick (`ruby-webrick`) stays available: `--server webrick` or
  REDMINE_DEV_SERVER=webrick. Both are enabled through Gemfile.local, which Debian's
  Gemfile evaluates (bundler then adds them to Gemfile.lock).
- The REST API cannot be switched on over HTTP, so `rails runner` sets the setting and
  reads the admin's API key in one call (~3 s); the key is cached in the state dir.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

REDMINE_ROOT = Path("/usr/share/redmine")
GEMFILE_LOCAL = REDMINE_ROOT / "Gemfile.local"
DEFAULT_PORT = 3000
SERVERS = ("puma", "webrick")
# Puma with one thread per process. SQLite takes one writer at a time, and the sqlite3
# gem keeps Ruby's GVL while SQLite waits for a lock: a thread waiting out the busy
# timeout stops the thread of the same process that holds the lock from finishing, and
# both answered 500 after 2 x 15 s ("database is locked", seen in the log under the
# suite). Processes do not share a GVL, so two workers of one thread each (cluster mode)
# serve two requests at once without that deadlock. One process would not do: after
# answering a kept-alive request, Puma 5's thread waits up to 0.2 s for that client's
# next request (FAST_TRACK_KA_TIMEOUT) before it serves anyone else, which put 2 x 0.2 s
# into every webhook's latency in bench_latency.py (0.51-0.56 s against 0.23-0.25 s with
# two workers). A production Redmine on PostgreSQL or MySQL runs several threads.
PUMA_THREADS = "1:1"
PUMA_WORKERS = 2
DEFAULT_STATE_DIR = Path(os.environ.get("REDMINE_SLA_DEV_STATE", "/var/tmp/redmine-sla-bridge-dev"))
ADMIN_LOGIN = "admin"
ADMIN_PASSWORD = "admin"

_RUNNER_SETUP = (
    'Setting.rest_api_enabled = "1"; '
    # Tests and the demo create issues as the admin on behalf of requesters.
    'Setting.default_projects_public = "1"; '
    # Debian's Redmine delivers no mail (perform_deliveries is off without an
    # email_delivery config), yet renders every issue notification in a background thread
    # of the app server: database work that competes with the requests for SQLite's lock.
    # The bridge notifies customers itself; Redmine's own notices are turned off here.
    "Setting.notified_events = []; "
    'u = User.find_by_login("admin"); u.must_change_passwd = false; u.save!(validate: false); '
    "puts u.api_key"
)


class LocalRedmineError(RuntimeError):
    """The local Redmine could not be installed, started or reached."""


def default_server() -> str:
    """$REDMINE_DEV_SERVER if set, else Puma where its Debian package is or can be
    installed (asked after `apt-get update` on a fresh machine), else WEBrick."""
    chosen = os.environ.get("REDMINE_DEV_SERVER", "").strip().lower()
    if chosen:
        if chosen not in SERVERS:
            raise LocalRedmineError(f"REDMINE_DEV_SERVER={chosen!r}: choose one of {', '.join(SERVERS)}")
        return chosen
    if _gem_available("puma") or _installable("puma"):
        return "puma"
    if shutil.which("apt-get") is not None and os.geteuid() == 0:
        subprocess.run(["apt-get", "update", "-qq"], capture_output=True,
                       env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        if _installable("puma"):
            return "puma"
    return "webrick"


@dataclasses.dataclass(frozen=True)
class LocalRedmine:
    port: int = DEFAULT_PORT
    state_dir: Path = DEFAULT_STATE_DIR
    # None: `default_server()`, chosen when first needed (after Redmine is installed).
    server: str | None = None

    @property
    def app_server(self) -> str:
        if self.server is None:
            # Frozen for callers; the choice is made once, lazily (it may run apt-get).
            object.__setattr__(self, "server", default_server())
        assert self.server is not None
        return self.server

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def _pid_file(self) -> Path:
        return self.state_dir / f"redmine-{self.port}.pid"

    @property
    def log_file(self) -> Path:
        return self.state_dir / f"redmine-{self.port}.log"

    @property
    def _key_file(self) -> Path:
        return self.state_dir / "admin-api-key"

    # -- installation -------------------------------------------------------------

    def installed(self) -> bool:
        return (REDMINE_ROOT / "config.ru").exists() and Path(
            "/etc/redmine/default/database.yml"
        ).exists()

    def install(self, log=print) -> None:
        if not self.installed():
            if shutil.which("apt-get") is None:
                raise LocalRedmineError("Redmine is not installed and apt-get is not available")
            log("installing Debian's redmine + redmine-sqlite, and chromium for the tests' "
                "screenshots (about 60 s) ...")
            env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
            _run(["apt-get", "update", "-qq"], env=env)
            _run(["apt-get", "install", "-y", "-qq", "redmine", "redmine-sqlite", "chromium"],
                 env=env)
        package, gem = {"puma": ("puma", "puma"), "webrick": ("ruby-webrick", "webrick")}[
            self.app_server]
        if not _gem_available(gem):
            _run(["apt-get", "install", "-y", "-qq", package],
                 env=dict(os.environ, DEBIAN_FRONTEND="noninteractive"))
        wanted = f'gem "{gem}"\n'
        if not GEMFILE_LOCAL.exists() or wanted not in GEMFILE_LOCAL.read_text():
            with GEMFILE_LOCAL.open("a") as fh:
                fh.write(wanted)
        _set_sqlite_busy_timeout()

    # -- lifecycle ----------------------------------------------------------------

    def answering(self, timeout: float = 2.0) -> bool:
        try:
            with urllib.request.urlopen(self.url + "/", timeout=timeout) as resp:
                return resp.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def start(self, wait_seconds: float = 120.0, log=print) -> str:
        """Install if missing, start if not answering, enable REST; return the API key."""
        self.install(log=log)
        _check_instance()
        self.state_dir.mkdir(parents=True, exist_ok=True)
        if not self.answering() and self._running():
            # Ours is up but busy (or still booting): wait for it, never start a second.
            deadline = time.monotonic() + wait_seconds
            while not self.answering(timeout=10) and self._running():
                if time.monotonic() > deadline:
                    raise LocalRedmineError(
                        f"Redmine (pid file {self._pid_file}) runs but does not answer on "
                        f"{self.url}; see {self.log_file}")
                time.sleep(1)
        if not self.answering():
            log(f"starting Redmine ({self.app_server}) on {self.url} (about 20 s) ...")
            with self.log_file.open("ab") as out:
                proc = subprocess.Popen(
                    self._server_command(),
                    cwd=REDMINE_ROOT,
                    stdin=subprocess.DEVNULL,
                    stdout=out,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,  # survives the CLI or the test session
                    env=dict(os.environ, RAILS_ENV="production"),
                )
            deadline = time.monotonic() + wait_seconds
            while not self.answering():
                if proc.poll() is not None:
                    raise LocalRedmineError(
                        f"Redmine exited with code {proc.returncode}; see {self.log_file}"
                    )
                if time.monotonic() > deadline:
                    raise LocalRedmineError(
                        f"Redmine did not answer on {self.url} within {wait_seconds:.0f} s; "
                        f"see {self.log_file}"
                    )
                time.sleep(0.5)
        return self.api_key()

    def _server_command(self) -> list[str]:
        if self.app_server == "puma":
            # Puma's own CLI, for the thread and worker counts (`rails server -u puma`
            # reads them from a config/puma.rb Debian does not ship).
            return ["puma", "--environment", "production", "--threads", PUMA_THREADS,
                    "--workers", str(PUMA_WORKERS),
                    "--bind", f"tcp://127.0.0.1:{self.port}", "--pidfile", str(self._pid_file),
                    "config.ru"]
        return ["bin/rails", "server", "-u", "webrick", "-e", "production",
                "-b", "127.0.0.1", "-p", str(self.port), "-P", str(self._pid_file)]

    def _running(self) -> bool:
        try:
            os.kill(int(self._pid_file.read_text().strip()), 0)
        except (OSError, ValueError):
            return False
        return True

    def api_key(self) -> str:
        """Enable the REST API (once) and return the admin's API key."""
        if self._key_file.exists():
            return self._key_file.read_text().strip()
        out = _run(["bin/rails", "runner", _RUNNER_SETUP], cwd=REDMINE_ROOT,
                   env=dict(os.environ, RAILS_ENV="production"))
        key = out.strip().splitlines()[-1].strip()
        if len(key) != 40:
            raise LocalRedmineError(f"unexpected output from rails runner: {out[-500:]!r}")
        self.state_dir.mkdir(parents=True, exist_ok=True)
        self._key_file.write_text(key + "\n")
        self._key_file.chmod(0o600)
        return key

    def runner(self, script: str) -> str:
        """Run Ruby inside the local Redmine (`rails runner`, ~3 s): for what no API
        offers, such as backdating an issue's history in tests and the demo."""
        return _run(["bin/rails", "runner", script], cwd=REDMINE_ROOT,
                    env=dict(os.environ, RAILS_ENV="production"))

    def stop(self) -> bool:
        if not self._pid_file.exists():
            return False
        try:
            pid = int(self._pid_file.read_text().strip())
            os.killpg(os.getpgid(pid), signal.SIGTERM)
        except (ValueError, ProcessLookupError):
            self._pid_file.unlink(missing_ok=True)
            return False
        # Gone when the process is, not when it stops answering: a busy Redmine does not
        # answer either, and a new one started on its port would fail to bind.
        deadline = time.monotonic() + 30
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        if _alive(pid):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(os.getpgid(pid), signal.SIGKILL)
        self._pid_file.unlink(missing_ok=True)
        return True

    def status(self) -> dict:
        return {
            "installed": self.installed(),
            "url": self.url,
            "answering": self.answering(),
            "server": self.server or "(chosen at start)",
            "log": str(self.log_file),
            "admin_login": ADMIN_LOGIN,
        }

    def status_json(self) -> str:
        return json.dumps(self.status(), indent=2)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A zombie (our own child, not yet reaped) counts as gone.
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


DATABASE_YML = Path("/etc/redmine/default/database.yml")


def _check_instance() -> None:
    """Debian's Redmine serves the instance `REDMINE_INSTANCE` names (docs/PERFORMANCE.md,
    "Which Redmine") from instances/<name>/config/database.yml. Without that file every
    worker fails to boot and Puma restarts them until the start-up wait gives up: say
    so at once."""
    name = os.environ.get("X_DEBIAN_SITEID") or os.environ.get("REDMINE_INSTANCE") or "default"
    if name == "default":
        return
    config = REDMINE_ROOT / "instances" / name / "config" / "database.yml"
    if not config.exists():
        raise LocalRedmineError(
            f"REDMINE_INSTANCE={name!r}: Debian's Redmine has no such instance ({config} "
            "is missing); make it as docs/PERFORMANCE.md shows under \"Which Redmine\", "
            "or unset REDMINE_INSTANCE")


def _set_sqlite_busy_timeout(milliseconds: int = 15000) -> None:
    """Debian's database.yml sets no timeout, so SQLite answers "database is locked" at
    once when two writers meet (WEBrick's threads, a `rails runner`); wait instead."""
    text = DATABASE_YML.read_text()
    if "adapter: sqlite3" not in text or "timeout:" in text:
        return
    DATABASE_YML.write_text(text.replace("adapter: sqlite3",
                                         f"adapter: sqlite3\n  timeout: {milliseconds}", 1))


def _gem_available(name: str) -> bool:
    if shutil.which("gem") is None:
        return False
    result = subprocess.run(["gem", "list", "-i", f"^{name}$"], capture_output=True, text=True)
    return result.returncode == 0 and result.stdout.strip() == "true"


def _installable(package: str) -> bool:
    """Whether apt knows a candidate version of `package` (no download)."""
    if shutil.which("apt-cache") is None:
        return False
    result = subprocess.run(["apt-cache", "policy", package], capture_output=True, text=True)
    return "Candidate:" in result.stdout and "Candidate: (none)" not in result.stdout


def _run(cmd: list[str], **kwargs) -> str:
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise LocalRedmineError(
            f"{' '.join(cmd[:3])} ... failed ({result.returncode}): "
            f"{(result.stderr or result.stdout)[-2000:]}"
        )
    return result.stdout
