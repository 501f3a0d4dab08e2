"""A local PostgreSQL for the store's tests and for trying a multi-replica setup.

Everything here is idempotent: `start` installs Debian's `postgresql` if it is missing,
reuses our cluster when it already runs, and only then creates and boots it; the test
role and database are created only when absent. It returns a SQLAlchemy URL.

Facts this module relies on (Debian 12, PostgreSQL 15):
- We run our OWN cluster in a state dir, not Debian's `main` cluster: its port is then
  ours to choose, and tests never touch a system cluster someone else may use.
- PostgreSQL refuses to run as root, so as root every server command runs as the
  `postgres` user (created by the package) via `runuser`; as any other user the cluster
  simply belongs to that user (installation then needs the package to be present).
- The server listens on 127.0.0.1 only and on a Unix socket inside the state dir, which
  we use (peer auth) for setup; clients use TCP with a password (scram-sha-256).
- The cluster is for tests: fsync is off, which costs durability against an OS crash
  only (a killed *client* still loses nothing committed), and makes setup ~2x faster.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pwd
import shutil
import subprocess
import time
from pathlib import Path

DEFAULT_PORT = 55432  # not 5432, so a system cluster on the usual port is left alone
DEFAULT_STATE_DIR = Path(os.environ.get("REDMINE_SLA_DEV_STATE", "/var/tmp/redmine-sla-bridge-dev"))
DEFAULT_USER = "bridge_test"
DEFAULT_PASSWORD = "bridge_test"
DEFAULT_DATABASE = "bridge_test"
_PG_LIB = Path("/usr/lib/postgresql")


class LocalPostgresError(RuntimeError):
    """The local PostgreSQL could not be installed, started or set up."""


@dataclasses.dataclass(frozen=True)
class LocalPostgres:
    port: int = DEFAULT_PORT
    state_dir: Path = DEFAULT_STATE_DIR
    user: str = DEFAULT_USER
    password: str = DEFAULT_PASSWORD
    database: str = DEFAULT_DATABASE

    @property
    def url(self) -> str:
        return (f"postgresql+psycopg://{self.user}:{self.password}"
                f"@127.0.0.1:{self.port}/{self.database}")

    @property
    def cluster_dir(self) -> Path:
        return self.state_dir / f"postgres-{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.cluster_dir / "data"

    @property
    def socket_dir(self) -> Path:
        return self.cluster_dir / "run"

    @property
    def log_file(self) -> Path:
        return self.cluster_dir / "server.log"

    # -- installation -------------------------------------------------------------

    def bin_dir(self) -> Path | None:
        """The newest installed server's bin dir (Debian keeps them per major version)."""
        versions = sorted(
            (p for p in _PG_LIB.glob("*/bin") if (p / "pg_ctl").exists()),
            key=lambda p: int(p.parent.name) if p.parent.name.isdigit() else 0,
        )
        return versions[-1] if versions else None

    def installed(self) -> bool:
        return self.bin_dir() is not None

    def install(self, log=print) -> None:
        if self.installed():
            return
        if shutil.which("apt-get") is None or os.geteuid() != 0:
            raise LocalPostgresError("PostgreSQL is not installed and cannot be installed "
                                     "here (needs root and apt-get)")
        log("installing Debian's postgresql (about 20 s) ...")
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        _run(["apt-get", "update", "-qq"], env=env)
        # The package's own `main` cluster is created but we never start it on purpose.
        _run(["apt-get", "install", "-y", "-qq", "postgresql"], env=env)
        if not self.installed():
            raise LocalPostgresError("apt-get installed postgresql but no pg_ctl was found")

    # -- lifecycle ----------------------------------------------------------------

    def running(self) -> bool:
        if not (self.data_dir / "PG_VERSION").exists() or self.bin_dir() is None:
            return False
        result = subprocess.run(self._as_owner([str(self._bin("pg_ctl")), "status", "-D",
                                                str(self.data_dir)]),
                                capture_output=True, text=True, cwd="/")
        return result.returncode == 0

    def start(self, wait_seconds: float = 60.0, log=print) -> str:
        """Install if missing, init and start if not running, create role + database;
        return the SQLAlchemy URL."""
        self.install(log=log)
        self._prepare_dirs()
        if not (self.data_dir / "PG_VERSION").exists():
            log(f"creating a PostgreSQL cluster in {self.data_dir} ...")
            _run(self._as_owner([
                str(self._bin("initdb")), "-D", str(self.data_dir), "-U", "postgres",
                "--auth-local=peer", "--auth-host=scram-sha-256", "-E", "UTF8",
                "--locale=C.UTF-8", "--no-sync",
            ]))
        if not self.running():
            log(f"starting PostgreSQL on 127.0.0.1:{self.port} ...")
            options = (f"-p {self.port} -k {self.socket_dir} -c listen_addresses=127.0.0.1 "
                       "-c fsync=off -c full_page_writes=off -c max_connections=200")
            _run(self._as_owner([
                str(self._bin("pg_ctl")), "start", "-D", str(self.data_dir), "-l",
                str(self.log_file), "-o", options, "-w", "-t", str(int(wait_seconds)),
            ]), error_hint=f"see {self.log_file}")
        self._wait_ready(wait_seconds)
        self._ensure_role_and_database()
        return self.url

    def stop(self) -> bool:
        if not self.running():
            return False
        _run(self._as_owner([str(self._bin("pg_ctl")), "stop", "-D", str(self.data_dir),
                             "-m", "fast", "-w"]))
        return True

    def status(self) -> dict:
        return {
            "installed": self.installed(),
            "running": self.running(),
            "url": self.url,
            "data_dir": str(self.data_dir),
            "log": str(self.log_file),
        }

    def status_json(self) -> str:
        return json.dumps(self.status(), indent=2)

    # -- SQL as the superuser -------------------------------------------------------

    def psql(self, sql: str, database: str = "postgres") -> str:
        """Run SQL as the `postgres` superuser over the Unix socket; return tuples-only
        output. For setup and test housekeeping, not for the bridge itself."""
        return _run(self._as_owner([
            str(self._bin("psql")), "-h", str(self.socket_dir), "-p", str(self.port),
            "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-qAt", "-c", sql,
        ]))

    # -- internals ----------------------------------------------------------------

    def _bin(self, name: str) -> Path:
        bin_dir = self.bin_dir()
        if bin_dir is None:
            raise LocalPostgresError("PostgreSQL is not installed")
        return bin_dir / name

    def _owner(self) -> str | None:
        """The OS user the cluster runs as, or None for "the current user"."""
        return "postgres" if os.geteuid() == 0 else None

    def _as_owner(self, cmd: list[str]) -> list[str]:
        owner = self._owner()
        return ["runuser", "-u", owner, "--", *cmd] if owner else cmd

    def _prepare_dirs(self) -> None:
        self.state_dir.mkdir(parents=True, exist_ok=True)
        for path in (self.cluster_dir, self.socket_dir):
            path.mkdir(mode=0o700, parents=True, exist_ok=True)
        owner = self._owner()
        if owner:
            entry = pwd.getpwnam(owner)
            for path in (self.cluster_dir, self.socket_dir):
                os.chown(path, entry.pw_uid, entry.pw_gid)
            if self.data_dir.exists():
                os.chown(self.data_dir, entry.pw_uid, entry.pw_gid)
            # The state dir may be 0700 root; the server user has to traverse it.
            self.state_dir.chmod(self.state_dir.stat().st_mode | 0o011)

    def _wait_ready(self, wait_seconds: float) -> None:
        deadline = time.monotonic() + wait_seconds
        while True:
            result = subprocess.run([str(self._bin("pg_isready")), "-q", "-h", "127.0.0.1",
                                     "-p", str(self.port)])
            if result.returncode == 0:
                return
            if time.monotonic() > deadline:
                raise LocalPostgresError(f"PostgreSQL did not answer on port {self.port} "
                                         f"within {wait_seconds:.0f} s; see {self.log_file}")
            time.sleep(0.2)

    def _ensure_role_and_database(self) -> None:
        user, password, db = _ident(self.user), _literal(self.password), _ident(self.database)
        if not self.psql(f"SELECT 1 FROM pg_roles WHERE rolname = {_literal(self.user)}"):
            self.psql(f"CREATE ROLE {user} LOGIN PASSWORD {password}")
        if not self.psql(f"SELECT 1 FROM pg_database WHERE datname = {_literal(self.database)}"):
            # CREATE DATABASE cannot run in a transaction block; psql -c runs it alone.
            self.psql(f"CREATE DATABASE {db} OWNER {user}")


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _run(cmd: list[str], error_hint: str = "", **kwargs) -> str:
    # cwd "/": the server user may not be allowed into the caller's directory.
    kwargs.setdefault("cwd", "/")
    result = subprocess.run(cmd, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise LocalPostgresError(
            f"{' '.join(cmd[:4])} ... failed ({result.returncode}): "
            f"{(result.stderr or result.stdout)[-2000:]} {error_hint}".rstrip()
        )
    return result.stdout
