"""A private Dovecot IMAP server for the tests: its own config, passwd-file users and
maildirs under a temporary folder, on a loopback port; no system service."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

IMAP_USER = "support"
IMAP_PASSWORD = "imap-pass-42"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Dovecot:
    def __init__(self, root: Path, port: int | None = None, *,
                 tls: tuple[Path, Path] | None = None) -> None:
        """`tls`: (certificate, key) PEM files: then STARTTLS on `port` and IMAPS on
        `imaps_port`."""
        self.root = root
        self.port = port or free_port()
        self.tls = tls
        self.imaps_port = free_port() if tls is not None else 0
        self.config = root / "dovecot.conf"
        self.process: subprocess.Popen | None = None

    def start(self) -> Dovecot:
        if shutil.which("dovecot") is None:
            raise RuntimeError("dovecot is not installed: apt-get install -y dovecot-imapd")
        for sub in ("run", "state", "home"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        (self.root / "users").write_text(f"{IMAP_USER}:{{PLAIN}}{IMAP_PASSWORD}::::::\n")
        uid, gid = os.getuid(), os.getgid()
        if uid == 0:  # the package's unprivileged users run the login processes
            import pwd

            users = "default_internal_user = dovecot\ndefault_login_user = dovenull\n"
            self.root.chmod(0o755)
            owner = pwd.getpwnam("dovecot")
            uid, gid = owner.pw_uid, owner.pw_gid  # Dovecot refuses root's mail
            os.chown(self.root / "home", uid, gid)
        else:
            import pwd

            name = pwd.getpwuid(uid).pw_name
            users = (f"default_internal_user = {name}\ndefault_internal_group = "
                     f"{name}\ndefault_login_user = {name}\n")
        ssl = "ssl = no"
        if self.tls is not None:
            cert, key = self.tls
            dh = "/usr/share/dovecot/dh.pem"
            ssl = (f"ssl = yes\nssl_cert = <{cert}\nssl_key = <{key}\n"
                   + (f"ssl_dh = <{dh}\n" if Path(dh).exists() else ""))
        self.config.write_text(users + f"""
base_dir = {self.root}/run
state_dir = {self.root}/state
log_path = {self.root}/dovecot.log
protocols = imap
listen = 127.0.0.1
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 0
mail_location = maildir:~/Maildir
namespace inbox {{
  inbox = yes
  separator = .
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {self.root}/users
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={self.root}/home/%u
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {self.port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {self.imaps_port}
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
""")
        self.process = subprocess.Popen(["dovecot", "-F", "-c", str(self.config)],
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                out = self.process.stdout.read().decode() if self.process.stdout else ""
                raise RuntimeError(f"dovecot exited: {out}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return self
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("dovecot did not answer in 15 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(5)
        self.process = None


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and localhost (openssl), and its key."""
    cert, key = folder / "imap-cert.pem", folder / "imap-key.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=127.0.0.1", "-addext",
                    "subjectAltName=IP:127.0.0.1,DNS:localhost",
                    "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    key.chmod(0o644)  # Dovecot reads it as root before dropping privileges; a test key
    return cert, key
