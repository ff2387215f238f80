"""The security sweep: every command, every server answer, and nowhere a token.

Each scenario runs the real command line in subprocesses, in a throwaway home, against the fake
usage API on 127.0.0.1, with a distinctive token. Afterwards every output, every file under the
home (but the credentials file and its backups) and every log is searched for the token, its
random part, any 16-character slice of it, and the refresh token. Around that: TLS verification
cannot be switched off, plain http goes only to this machine, the app's files are private, the
credentials file is only ever touched by reset/restore, and Keychain backups never reach a disk.
"""

from __future__ import annotations

import inspect
import json
import os
import re
import secrets
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from claude_usage_gauge.core.errors import ErrorKind, UsageError
from claude_usage_gauge.sources import api
from claude_usage_gauge.sources.api_base import validate_api_base
from claude_usage_gauge.sources.claude_home import ClaudeHome
from claude_usage_gauge.sources.credential_backups import (
    list_backups,
    reset_credentials,
    restore_credentials,
)
from claude_usage_gauge.sources.credentials import (
    read_credentials,
)
from claude_usage_gauge.testing.fake_api import (
    FakeUsageAPI,
    Reply,
    api_error,
    missing_scope,
    ok,
    rate_limited,
    redirect,
    unauthorized,
)
from claude_usage_gauge.testing.fake_keychain import FakeSecretStore
from claude_usage_gauge.testing.hostile import bomb, nested, reason_echo
from tests.support.cli_home import APP_DIR, CliHome, closed_port
from tests.support.sweep import (
    RANDOM_PART,
    REFRESH,
    TOKEN,
    Sweep,
    credentials_bytes,
    leaks,
    new_home,
    run_every_other_command,
    run_state_readers,
    statusline_input,
)

SRC = Path(__file__).resolve().parents[2] / "src" / "claude_usage_gauge"


def test_the_needles_find_what_they_should() -> None:
    """The scanner itself: a truncated quote is found, the masked form and the prefix are not."""
    assert leaks(f"Bearer {TOKEN[:30]}…")
    assert leaks(REFRESH[-20:])
    assert leaks(RANDOM_PART)
    assert not leaks(f"token: sk-ant-oat01-…({len(TOKEN)} chars)")
    assert not leaks("sk-ant-oat01-*** sk-ant-ort01-***")


# -- the scenarios -------------------------------------------------------------------------------


def html_echo() -> Reply:
    """A 500 page from a broken proxy that echoes the request's Authorization header back."""
    echoed = f"Bearer {TOKEN}"
    page = (
        f"<!DOCTYPE html><html><head><title>500 {echoed}</title></head><body>"
        f"<h1>Internal Server Error</h1><pre>Authorization: {echoed}\n"
        f"authorization={TOKEN}</pre></body></html>"
    )
    return Reply(500, page, headers={"Content-Type": "text/html"})


def json_echo() -> Reply:
    return api_error(400, "invalid_request_error", f"Invalid bearer token: {TOKEN}")


def forbidden() -> Reply:
    return api_error(403, "permission_error", f"Forbidden for Bearer {TOKEN}")


SCENARIOS: dict[str, Reply] = {
    "success": ok(42.0, 18.0),
    "401": unauthorized(),
    "403 scope": missing_scope(),
    "403 echo": forbidden(),
    "429": rate_limited("120"),
    "500 html echoing the header": html_echo(),
    "json error quoting the token": json_echo(),
    # A proxy that echoes the token, without its prefix, in the status line's reason phrase
    # (httpx logs that line whole).
    "500 reason phrase echoing the token": reason_echo(500, f"Bad {RANDOM_PART} given"),
    "429 reason phrase echoing a slice": reason_echo(429, f"slow down {TOKEN[20:40]}"),
    "stacked gzip bomb": bomb(64 * 1024 * 1024, ("gzip", "gzip")),
    "429 nested 60k deep": nested(429, 60_000, headers={"Retry-After": "600"}),
}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_no_token_anywhere_after_each_server_answer(tmp_path: Path, name: str) -> None:
    with FakeUsageAPI(default=SCENARIOS[name]) as fake:
        sweep = Sweep(new_home(tmp_path / "home", fake.url), [])
        run_state_readers(sweep)
        assert fake.request_count >= 1
        # Every request carried the token where it belongs, and only there.
        assert all(r.headers.get("authorization") == f"Bearer {TOKEN}" for r in fake.requests)
    sweep.assert_no_leak()


@pytest.mark.parametrize(
    "message",
    [
        f"Invalid token {TOKEN[:40]}...",
        f"token …{TOKEN[-24:]} expired",
    ],
    ids=["head", "tail"],
)
def test_no_token_after_a_server_quotes_part_of_it(tmp_path: Path, message: str) -> None:
    with FakeUsageAPI(default=api_error(401, "authentication_error", message)) as fake:
        sweep = Sweep(new_home(tmp_path / "home", fake.url), [])
        run_state_readers(sweep)
    sweep.assert_no_leak()


def test_a_redirect_is_not_followed_and_the_token_goes_nowhere_else(tmp_path: Path) -> None:
    with FakeUsageAPI() as other, FakeUsageAPI() as fake:
        fake.script([], default=redirect(f"{other.url}/api/oauth/usage"))
        sweep = Sweep(new_home(tmp_path / "home", fake.url), [])
        run_state_readers(sweep)
        assert fake.request_count >= 1
        # Not a request without the header either: nothing at all reached the other port.
        assert other.request_count == 0
        assert all("authorization" not in r.headers for r in other.requests)
    sweep.assert_no_leak()


PROXY_SECRET = "ProxyPass" + secrets.token_urlsafe(12).replace("-", "x")


@pytest.mark.parametrize(
    "proxy",
    [
        f"socks4://{PROXY_SECRET}@127.0.0.1:1",
        f"ftp://user:{PROXY_SECRET}@127.0.0.1:1",
        f"http://user:{PROXY_SECRET}@127.0.0.1:1:2",
        f"http://{PROXY_SECRET}@[127.0.0.1]:1",
    ],
    ids=["socks4 user only", "unknown scheme", "bad port", "bad host"],
)
def test_a_proxy_password_is_never_stored_logged_or_shown(tmp_path: Path, proxy: str) -> None:
    """httpx quotes a malformed proxy URL in its error; the client is set up before any
    connection, so the (never resolved) https address below is never contacted."""
    home = new_home(tmp_path / "home", "https://usage.invalid")
    home.env.update(HTTPS_PROXY=proxy, https_proxy=proxy, ALL_PROXY=proxy, NO_PROXY="")
    sweep = Sweep(home, [])
    data = json.loads(sweep.run("status", "--json").stdout)
    assert data["error"]["kind"] == ErrorKind.NETWORK.value
    sweep.run("status")
    doctor = sweep.run("doctor")
    assert "Usage service" in doctor.stdout
    found = [label for label, text in sweep.outputs if PROXY_SECRET in text]
    found += [
        str(path.relative_to(home.root))
        for path in sorted(home.root.rglob("*"))
        if path.is_file() and PROXY_SECRET.encode() in path.read_bytes()
    ]
    assert found == []
    # What was kept says what went wrong, without the password.
    state = (home.state_dir / "state.json").read_text()
    assert "***@" in state or "Invalid" in state
    sweep.assert_no_leak()


def test_an_api_address_with_a_password_is_refused_and_never_shown(tmp_path: Path) -> None:
    home = new_home(tmp_path / "home", f"https://user:{PROXY_SECRET}@usage.invalid")
    sweep = Sweep(home, [])
    data = json.loads(sweep.run("status", "--json").stdout)
    assert data["error"]["kind"] == ErrorKind.CONFIG.value
    doctor = sweep.run("doctor")
    assert "API base: https://***@usage.invalid" in doctor.stdout
    found = [label for label, text in sweep.outputs if PROXY_SECRET in text]
    found += [
        str(p)
        for p in home.root.rglob("*")
        if p.is_file() and PROXY_SECRET.encode() in p.read_bytes()
    ]
    assert found == []
    sweep.assert_no_leak()


def test_a_network_error_leaks_nothing(tmp_path: Path) -> None:
    sweep = Sweep(new_home(tmp_path / "home", f"http://127.0.0.1:{closed_port()}"), [])
    run_state_readers(sweep)
    data = json.loads(sweep.run("status", "--json").stdout)
    assert data["error"]["kind"] == ErrorKind.NETWORK.value
    sweep.assert_no_leak()


@pytest.mark.parametrize("scenario", ["success", "json error quoting the token"])
def test_every_command_leaks_nothing_and_writes_only_private_files(
    tmp_path: Path, scenario: str
) -> None:
    with FakeUsageAPI(default=SCENARIOS[scenario]) as fake:
        sweep = Sweep(new_home(tmp_path / "home", fake.url), [])
        run_state_readers(sweep)
        run_every_other_command(sweep)
        run_state_readers(sweep)
    sweep.assert_no_leak()
    # The app's top directories are checked on their own below (they are created 0755 today).
    assert_private(sweep.home, roots=False)


# -- file modes ----------------------------------------------------------------------------------


def app_dirs(home: CliHome) -> list[Path]:
    root = home.root
    return [
        root / ".local" / "state" / APP_DIR,
        root / ".local" / "share" / APP_DIR,
        root / ".config" / APP_DIR,
        root / ".cache" / APP_DIR,
    ]


def walk(top: Path) -> Iterator[Path]:
    if top.exists():
        yield top
        yield from top.rglob("*")


def assert_private(home: CliHome, *, roots: bool = True, min_files: int = 4) -> None:
    wrong: list[str] = []
    seen_files = 0
    for top in app_dirs(home):
        for path in walk(top):
            if path == top and not roots:
                continue
            mode = stat.S_IMODE(path.lstat().st_mode)
            if path.is_symlink():
                wrong.append(f"{path}: a symlink")
            elif path.is_dir() and mode != 0o700:
                wrong.append(f"{path}: dir {mode:o}")
            elif path.is_file():
                seen_files += 1
                if mode != 0o600:
                    wrong.append(f"{path}: file {mode:o}")
    assert not wrong, "\n".join(wrong)
    # What the commands wrote (store, bridge file, locks, log, backups) was really there.
    assert seen_files >= min_files
    # Claude Code's settings file, created by `statusline install` when there was none: private.
    settings = home.claude_dir / "settings.json"
    if settings.exists():
        assert stat.S_IMODE(settings.stat().st_mode) == 0o600
    # Our backups of it copy the user's settings: private, whatever the original's mode.
    for saved in home.claude_dir.glob("settings.json.*.bak"):
        assert stat.S_IMODE(saved.stat().st_mode) == 0o600, saved


@pytest.mark.parametrize(
    "argv",
    [
        ("status", "--json"),
        ("statusline",),
        ("autostart", "status"),
        ("statusline", "install", "--dry-run"),
        ("credentials", "reset", "--yes"),
        ("doctor",),
    ],
    ids=" ".join,
)
def test_the_first_command_in_a_new_home_makes_only_private_dirs(
    tmp_path: Path, argv: tuple[str, ...]
) -> None:
    with FakeUsageAPI() as fake:
        sweep = Sweep(new_home(tmp_path / "home", fake.url), [])
        sweep.run(*argv, stdin=statusline_input() if argv == ("statusline",) else None)
    assert_private(sweep.home, min_files=1)
    sweep.assert_no_leak()


# -- TLS and the API address ---------------------------------------------------------------------

INSECURE = re.compile(
    r"verify\s*=\s*False|CERT_NONE|check_hostname\s*=\s*False|_create_unverified_context"
    r"|ssl\._create_default_https_context|PYTHONHTTPSVERIFY"
)


def test_nothing_in_the_source_turns_tls_verification_off() -> None:
    hits = [
        f"{path.relative_to(SRC)}:{number}"
        for path in sorted(SRC.rglob("*.py"))
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
        if INSECURE.search(line)
    ]
    assert hits == []


def test_fetch_usage_has_no_way_to_disable_verification() -> None:
    parameters = inspect.signature(api.fetch_usage).parameters
    # `transport` is the tests' in-memory transport; any new knob must come past this test.
    assert list(parameters) == ["base", "token", "now", "transport", "timeout"]
    assert not [p for p in parameters if re.search(r"verify|ssl|cert|insecure|tls", p, re.I)]
    source = inspect.getsource(api.fetch_usage)
    assert "verify=_ssl_verify()" in source
    assert "follow_redirects=False" in source
    # The verifier is a real one: an SSL context that checks names and certificates, or True.
    context = api._ssl_verify()
    if context is not True:
        assert context.verify_mode.name == "CERT_REQUIRED"  # type: ignore[union-attr]
        assert context.check_hostname  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://api.anthropic.com", True),
        ("https://example.com/base/", True),
        ("http://127.0.0.1:8080", True),
        ("http://127.0.0.2", True),
        ("http://[::1]:9", True),
        ("http://localhost", True),
        ("http://localhost.", True),
        ("http://LOCALHOST:1", True),
        ("http://10.0.0.1", False),
        ("http://192.168.1.1", False),
        ("http://0.0.0.0", False),
        ("http://example.com", False),
        ("http://127.0.0.1.example.com", False),
        ("http://localhost.example.com", False),
        ("http://2130706433", False),
        ("http://[::ffff:7f00:1]", False),
        ("http://user:pw@127.0.0.1", False),
        ("http://evil.example@127.0.0.1", False),
        ("http://127.0.0.1@evil.example", False),
        ("http://evil.example#@127.0.0.1", False),
        ("http://127.0.0.1/?next=x", False),
        ("file:///etc/passwd", False),
        ("file://localhost/etc/passwd", False),
        ("ftp://127.0.0.1", False),
        ("ws://127.0.0.1", False),
        ("127.0.0.1:8080", False),
        ("//127.0.0.1", False),
        ("http:// 127.0.0.1", False),
        ("http://127.0.0.1\n.evil.example", False),
        ("", False),
    ],
)
def test_plain_http_only_to_this_machine(url: str, allowed: bool) -> None:
    if allowed:
        assert validate_api_base(url) == url.strip().rstrip("/").replace("LOCALHOST", "localhost")
    else:
        with pytest.raises(UsageError) as caught:
            validate_api_base(url)
        assert caught.value.kind is ErrorKind.CONFIG


def test_a_refused_address_makes_no_connection_and_no_leak(tmp_path: Path) -> None:
    sweep = Sweep(new_home(tmp_path / "home", "http://10.0.0.1:9"), [])
    data = json.loads(sweep.run("status", "--json").stdout)
    assert data["error"]["kind"] == ErrorKind.CONFIG.value
    sweep.run("doctor")
    sweep.assert_no_leak()


# -- the Keychain: backups never land on a disk in clear -------------------------------------------


def test_keychain_backups_stay_in_the_keychain(tmp_path: Path) -> None:
    home, data = tmp_path / "home", tmp_path / "data"
    env = {"HOME": str(home), "USER": "sweep"}
    (home / ".claude").mkdir(parents=True)
    store = FakeSecretStore()
    item = (
        ClaudeHome.from_environ(env).keychain_service,
        ClaudeHome.from_environ(env).keychain_account,
    )
    value = json.loads(credentials_bytes())
    store.items[item] = json.dumps(value)
    assert read_credentials(ClaudeHome.from_environ(env), store).access_token == TOKEN
    backups_dir = data / APP_DIR / "credential-backups"

    first = reset_credentials(backups_dir, ClaudeHome.from_environ(env), store)
    assert first.keychain_saved
    assert first.moved_file is None
    assert item not in store.items
    assert any(TOKEN in v for v in store.items.values())  # held by a backup item
    assert not _disk_leaks(tmp_path)

    # A new sign-in appears (file and Keychain); restoring keeps it as a backup of its own.
    ClaudeHome.from_environ(env).credentials_file.write_bytes(credentials_bytes())
    store.items[item] = json.dumps(value)
    restored = restore_credentials(backups_dir, ClaudeHome.from_environ(env), store)
    assert restored.keychain_restored
    assert restored.set_aside is not None
    assert store.items[item] == json.dumps(value)
    assert len(list_backups(backups_dir, store)) == 1
    # The moved file holds the token, by design; everything else on disk (markers) does not.
    assert (
        _disk_leaks(
            tmp_path,
            allowed={ClaudeHome.from_environ(env).credentials_file},
            allowed_dir=backups_dir,
        )
        == []
    )
    markers = list(backups_dir.glob("*.keychain"))
    assert markers
    assert all(not leaks(m.read_bytes()) for m in markers)


def _disk_leaks(
    root: Path, allowed: set[Path] | None = None, allowed_dir: Path | None = None
) -> list[str]:
    found = []
    for path in sorted(root.rglob("*")):
        if not path.is_file() or path in (allowed or set()):
            continue
        if allowed_dir is not None and path.suffix == ".json" and path.is_relative_to(allowed_dir):
            continue  # a moved credentials file
        if leaks(path.read_bytes()):
            found.append(str(path.relative_to(root)))
    return found


def test_keychain_reset_writes_no_secret_even_without_a_file(tmp_path: Path) -> None:
    env = {"HOME": str(tmp_path / "home"), "USER": "sweep"}
    store = FakeSecretStore(
        {
            (
                ClaudeHome.from_environ(env).keychain_service,
                ClaudeHome.from_environ(env).keychain_account,
            ): TOKEN
        }
    )
    backups_dir = tmp_path / "backups"
    reset_credentials(backups_dir, ClaudeHome.from_environ(env), store)
    assert not _disk_leaks(tmp_path)
    restore_credentials(backups_dir, ClaudeHome.from_environ(env), store)
    assert not _disk_leaks(tmp_path)
    assert os.listdir(backups_dir) == []


# -- the hostile-input cases, in one home, with this sweep's token ---------------------------------

KILLED_RESET = """
import os, signal, sys
import claude_usage_gauge.sources.credential_backups as backups
backups._move = lambda *a, **k: os.kill(os.getpid(), signal.SIGKILL)
from claude_usage_gauge.cli import main
sys.exit(main(["credentials", "reset", "--yes"]))
"""


def test_the_hostile_cases_leak_nothing_and_write_only_private_files(tmp_path: Path) -> None:
    """Every file the hostile-input cases make (placeholders, settings backups, the files that
    replace named pipes, logs of refused bodies) is searched, and every output."""
    hostile = [
        bomb(64 * 1024 * 1024, ("gzip", "gzip")),
        nested(429, 60_000, headers={"Retry-After": "1"}),
        reason_echo(500, f"echo {RANDOM_PART}"),
        api_error(500, "api_error", f"\x1b]52;c;{RANDOM_PART}\x07"),
    ]
    with FakeUsageAPI(hostile) as fake:
        home = new_home(tmp_path / "home", fake.url)
        sweep = Sweep(home, [])
        for _ in hostile:
            sweep.run("status", "--refresh")
        run_state_readers(sweep)
        # Named pipes where our files were: passed by, then replaced.
        for name in ("state.json", "bridge.json"):
            (home.state_dir / name).unlink(missing_ok=True)
            os.mkfifo(home.state_dir / name, 0o600)
        run_state_readers(sweep)
        # A handwritten settings file: edited in place, backed up privately, given back.
        home.claude_dir.joinpath("settings.json").write_bytes(b'{"n": 1e400,\n "model": "x"}\n')
        home.claude_dir.joinpath("settings.json").chmod(0o644)
        assert sweep.run("statusline", "install").returncode == 0
        assert sweep.run("statusline", "uninstall").returncode == 0
        # A reset killed between claim and move, then list, restore, and a real round trip.
        killed = subprocess.run(
            [sys.executable, "-c", KILLED_RESET], env=home.env, capture_output=True, check=False
        )
        sweep.outputs += [("killed reset", killed.stdout.decode() + killed.stderr.decode())]
        sweep.run("credentials", "list")
        assert sweep.run("credentials", "restore", "--yes").returncode == 1
        assert sweep.run("credentials", "reset", "--yes").returncode == 0
        assert sweep.run("credentials", "restore", "--yes").returncode == 0
        run_state_readers(sweep)
    for name in ("state.json", "bridge.json"):
        assert stat.S_ISREG((home.state_dir / name).lstat().st_mode)
    sweep.assert_no_leak()
    home.claude_dir.joinpath("settings.json").unlink()  # the user's own (0644) file
    assert_private(home, roots=False)
