"""`connprof lint`: output formats, exit codes, discovery, the samples, isolation, big files.

The rules themselves are tested by their examples (tests/lint/test_examples.py).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import yaml

from connprof._lint import engine, lint_paths
from connprof._yaml._plain import parse_plain
from tests.helpers import ROOT, SAMPLES, run_cli, write_file

BAD = textwrap.dedent(
    """\
    profiles:
      zeta:
        driver: cassandra
        hosts: [cass1.example.com]
      alpha:
        driver: pymongo
        hosts: [db1.example.com]
        auth: {user: app, password: hunter2}
        tls: {verfiy: full}
    """
)
WARN_ONLY = textwrap.dedent(
    """\
    profiles:
      events:
        driver: cassandra
        hosts: [cass1.example.com]
    """
)
CLEAN = textwrap.dedent(
    """\
    profiles:
      orders:
        driver: pymongo
        hosts: [db1.example.com]
        auth: {user: app, password: "keyring:"}
        tls: true
    """
)


# -- output and exit codes ---------------------------------------------------------------------


def test_text_lines_sorted_by_file_and_line() -> None:
    write_file(Path("b.yaml"), BAD)
    write_file(Path("a.yaml"), WARN_ONLY)
    code, out, err = run_cli("lint", "b.yaml", "a.yaml")
    assert code == 1
    lines = out.splitlines()
    assert lines == [
        "a.yaml:4:12: CP013 warning TLS is off for cass1.example.com, which is not loopback: "
        "credentials and data cross the network in clear; turn TLS on (tls: true, or a tls block)",
        "b.yaml:4:12: CP013 warning TLS is off for cass1.example.com, which is not loopback: "
        "credentials and data cross the network in clear; turn TLS on (tls: true, or a tls block)",
        "b.yaml:8:33: CP002 error auth.password holds a plaintext secret; store it with "
        '`connprof secret set alpha password` and write "keyring:" here (or env:NAME, file:PATH)',
        "b.yaml:9:11: CP001 error profile 'alpha': unknown key 'verfiy' in tls; did you mean "
        "'verify'? (allowed: enabled, verify, ca, client_cert, client_key, client_key_password, "
        "crl, fingerprint, min_version, max_version, ciphers, server_name, ocsp)",
    ]
    assert "hunter2" not in out + err
    assert err == "connprof lint: 2 errors, 2 warnings in 2 files\n"


def test_json_is_a_list_of_findings() -> None:
    write_file(Path("b.yaml"), BAD)
    code, out, _ = run_cli("lint", "--format", "json", "b.yaml")
    assert code == 1
    found = json.loads(out)
    assert [(d["code"], d["line"]) for d in found] == [("CP013", 4), ("CP002", 8), ("CP001", 9)]
    assert set(found[0]) == {"path", "line", "column", "code", "severity", "message"}
    assert found[1]["severity"] == "error" and found[1]["path"] == "b.yaml"
    assert "hunter2" not in out


def test_github_annotations() -> None:
    write_file(Path("b.yaml"), BAD)
    code, out, _ = run_cli("lint", "--format", "github", "b.yaml")
    assert code == 1
    lines = out.splitlines()
    assert lines[0].startswith("::warning file=b.yaml,line=4,col=12,title=CP013::CP013 TLS is off")
    assert lines[1].startswith("::error file=b.yaml,line=8,col=33,title=CP002::CP002 auth.password")
    assert len(lines) == 3
    assert "hunter2" not in out


def test_github_escapes_what_would_end_the_command() -> None:
    from connprof._lint import Diagnostic
    from connprof._lint.report import format_github

    d = Diagnostic("a,b:c.yaml", 1, 2, "CP001", "error", "50% done\nnext")
    assert format_github([d]) == (
        "::error file=a%2Cb%3Ac.yaml,line=1,col=2,title=CP001::CP001 50%25 done%0Anext\n"
    )


def test_warnings_pass_unless_strict() -> None:
    write_file(Path("w.yaml"), WARN_ONLY)
    assert run_cli("lint", "w.yaml")[0] == 0
    assert run_cli("lint", "--strict", "w.yaml")[0] == 1


def test_clean_files_say_one_line_unless_quiet() -> None:
    write_file(Path("c.yaml"), CLEAN)
    assert run_cli("lint", "c.yaml") == (0, "", "connprof lint: 0 problems in 1 file\n")
    write_file(Path("more/d.connprof.yaml"), CLEAN)
    write_file(Path("more/e.yaml"), CLEAN)
    assert run_cli("lint", "c.yaml", "more") == (0, "", "connprof lint: 0 problems in 3 files\n")
    assert run_cli("lint", "--quiet", "c.yaml") == (0, "", "")
    assert run_cli("lint", "-q", "c.yaml", "--format", "json") == (0, "[]\n", "")
    # Without PATH: the files discovery (here --config) reads, counted the same way.
    assert run_cli("--config", "c.yaml", "lint") == (0, "", "connprof lint: 0 problems in 1 file\n")
    assert run_cli("lint", "--format", "json", "c.yaml") == (0, "[]\n", "")


def test_usage_error_is_2() -> None:
    write_file(Path("c.yaml"), CLEAN)
    assert run_cli("lint", "--format", "xml", "c.yaml")[0] == 2


def test_missing_path_is_one_line_and_1() -> None:
    code, out, err = run_cli("lint", "nope.yaml")
    assert code == 1
    assert out == ""
    assert err == "connprof: error: nope.yaml: no such file; name a profile file or a folder\n"


def test_a_folder_lints_its_yaml_files() -> None:
    write_file(Path("dir/one.yaml"), BAD)
    write_file(Path("dir/sub/two.yml"), WARN_ONLY)
    write_file(Path("dir/notes.txt"), "password: hunter2\n")
    code, out, _ = run_cli("lint", "dir")
    assert code == 1
    assert {line.split(":")[0] for line in out.splitlines()} == {
        os.path.join("dir", "one.yaml"),
        os.path.join("dir", "sub", "two.yml"),
    }


def test_a_file_that_does_not_load_does_not_stop_the_others() -> None:
    write_file(Path("broken.yaml"), "profiles:\n  a: [\n")
    write_file(Path("b.yaml"), BAD)
    code, out, _ = run_cli("lint", "broken.yaml", "b.yaml")
    assert code == 1
    codes = [(line.split(":")[0], line.split()[1]) for line in out.splitlines()]
    assert ("broken.yaml", "CP001") in codes
    assert ("b.yaml", "CP002") in codes


# -- discovery and layers ------------------------------------------------------------------------


def test_without_paths_the_discovered_files_are_linted_as_layers(isolated: object) -> None:
    write_file(Path("connprof.yaml"), "profiles:\n  orders:\n    driver: pymongo\n"
          "    hosts: [db1.example.com]\n    tls: true\n")  # fmt: skip
    user = Path(os.environ["XDG_CONFIG_HOME"]) / "connprof"
    # A personal overlay: on its own not a whole profile, as a layer fine but for its password.
    write_file(user / "profiles.d" / "me.yaml", "profiles:\n  orders:\n    auth:\n      user: me\n"
          "      password: hunter2\n")  # fmt: skip
    code, out, _ = run_cli("lint")
    assert code == 1
    assert out.splitlines() == [
        f"{user / 'profiles.d' / 'me.yaml'}:5:17: CP002 error auth.password holds a plaintext "
        'secret; store it with `connprof secret set orders password` and write "keyring:" '
        "here (or env:NAME, file:PATH)"
    ]


def test_config_option_names_the_layers() -> None:
    layered = SAMPLES / "layered"
    code, out, _ = run_cli(
        "--config", str(layered / "personal.yaml"), "--config", str(layered / "team.yaml"),
        "lint",
    )  # fmt: skip
    assert (code, out) == (0, "")


def test_no_profile_file_at_all() -> None:
    code, out, err = run_cli("lint")
    assert (code, out) == (1, "")
    assert "no profile file was found" in err


def test_an_overlay_file_alone_is_checked_for_what_it_writes() -> None:
    write_file(Path("me.yaml"), "profiles:\n  orders:\n    auth: {user: me, pasword: x}\n")
    found = lint_paths(["me.yaml"])
    assert [(d.code, d.line) for d in found] == [("CP001", 3)]
    assert "did you mean 'password'?" in found[0].message


@pytest.mark.parametrize("name", ["connprof.yaml", "team.connprof.yaml"])
def test_a_project_file_holds_whole_profiles(name: str) -> None:
    # The same overlay-shaped profile in a project file has simply forgotten its driver.
    write_file(Path(name), "profiles:\n  orders:\n    auth: {user: me}\n")
    found = lint_paths([name])
    assert [(d.code, d.line) for d in found] == [("CP001", 2)]
    assert "missing 'driver'" in found[0].message


# -- the samples -------------------------------------------------------------------------------


def test_sample_profiles_lint_clean_but_for_one_deliberate_warning() -> None:
    found = lint_paths([SAMPLES])
    # crate.yaml's C4 keeps a CA while verification is off, to show that lint says so.
    assert [(Path(d.path).name, d.code, d.severity) for d in found] == [
        ("crate.yaml", "CP021", "warning")
    ]


# -- isolation: no keyring, no socket, no secret ------------------------------------------------

PROBE = """
import socket, sys

def refuse(*args, **kwargs):
    raise AssertionError("lint opened a socket")

class NoSocket(socket.socket):  # a class, so that ssl can still subclass it
    def __init__(self, *args, **kwargs):
        refuse()

socket.socket = NoSocket
socket.create_connection = refuse
socket.getaddrinfo = refuse
socket.gethostbyname = refuse

from connprof._cli import main
code = main(["lint", "--check-files", *sys.argv[1:]])
loaded = sorted(m for m in sys.modules if m.split(".")[0] == "keyring"
                or m.startswith("connprof.secrets"))
print("LOADED", loaded, "EXIT", code)
"""


def test_lint_imports_no_keyring_resolves_nothing_and_opens_no_socket(tmp_path: Path) -> None:
    secret_file = write_file(tmp_path / "pw.txt", "file-secret-4d1f\n")
    secret_file.chmod(0o600)
    profiles = write_file(
        tmp_path / "p.yaml",
        textwrap.dedent(
            f"""\
            profiles:
              a:
                driver: pymongo
                hosts: [db1.example.com]
                tls: true
                auth: {{user: app, password: "keyring:"}}
              b:
                driver: cassandra
                hosts: [db2.example.com]
                tls: true
                auth: {{user: app, password: env:LINT_PROBE_SECRET}}
              c:
                driver: cassandra
                hosts: [db3.example.com]
                tls: true
                auth: {{user: app, password: "file:{secret_file}"}}
            """
        ),
    )
    env = {**os.environ, "LINT_PROBE_SECRET": "env-secret-93ab"}
    done = subprocess.run(
        [sys.executable, "-c", PROBE, str(profiles), str(SAMPLES)],
        capture_output=True, text=True, env=env, check=False,
    )  # fmt: skip
    assert "LOADED [] EXIT" in done.stdout, done.stdout + done.stderr
    assert "socket" not in done.stderr
    for secret in ("env-secret-93ab", "file-secret-4d1f"):
        assert secret not in done.stdout + done.stderr


# -- big files: the plain-data first pass --------------------------------------------------------


def big_file(path: Path, count: int) -> Path:
    rows = ["defaults:", '  tls: {min_version: "1.2"}', "profiles:"]
    for i in range(count):
        password = "hunter2" if i % 97 == 13 else '"keyring:"'
        rows += [
            f"  svc{i:04d}:",
            "    driver: pymongo",
            f"    description: Generated profile number {i} # a comment",
            f'    hosts: ["db{i}.example.com:27017", db{i}b.example.com]',
            f"    auth: {{user: app{i}, password: {password}}}",
            "    tls:",
            "      verify: full" if i % 89 != 7 else "      verfiy: full",
            "    options:",
            f"      replicaSet: rs{i % 3}",
            "      retryWrites: yes",
        ]
    return write_file(path, "\n".join(rows) + "\n")


def test_big_file_first_pass_finds_what_the_positioned_pass_finds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = big_file(Path("big.yaml"), 1000)  # over 256 KB: also read in chunks
    assert path.stat().st_size > 256 * 1024
    assert parse_plain(path.read_text()) is not None  # the first pass reads it without PyYAML
    monkeypatch.setattr(engine, "FAST_THRESHOLD", 1 << 40)
    slow = lint_paths([path])
    monkeypatch.setattr(engine, "FAST_THRESHOLD", 0)
    fast = lint_paths([path])
    assert fast == slow
    assert {d.code for d in fast} == {"CP001", "CP002"}
    plaintext = sum(i % 97 == 13 for i in range(1000))
    misspelt = sum(i % 89 == 7 for i in range(1000))
    assert len(fast) == plaintext + misspelt
    first = next(d for d in fast if d.code == "CP002")
    assert path.read_text().splitlines()[first.line - 1].strip().startswith("auth: {user: app13")


# -- the pre-commit hook ---------------------------------------------------------------------------


def hook() -> dict[str, object]:
    hooks = yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text(encoding="utf-8"))
    (only,) = hooks
    assert isinstance(only, dict)
    return only


def test_hook_definition() -> None:
    h = hook()
    assert (h["id"], h["entry"], h["language"]) == ("connprof-lint", "connprof lint", "python")


@pytest.mark.parametrize(
    ("path", "matches"),
    [
        ("connprof.yaml", True),
        ("deploy/connprof.yaml", True),
        ("prod.connprof.yaml", True),
        ("team/eu.prod.connprof.yaml", True),
        ("profiles.d/orders.yaml", True),
        ("home/.config/connprof/profiles.d/dev.yaml", True),
        # This repository's own folders are not every user's: no sample_profiles/ in the pattern.
        ("sample_profiles/crate.yaml", False),
        ("sample_profiles/layered/team.yaml", False),
        ("sample_profiles/connprof.yaml", True),  # a project file, by its name
        ("connprof.yaml.bak", False),
        ("myconnprof.yaml", False),
        ("connprof.yml", False),
        ("profiles.d/sub/x.yaml", False),
        ("profiles.d/notes.txt", False),
        (".github/workflows/ci.yaml", False),
        ("profiles.yaml", False),
        ("docs/sample_profiles.yaml", False),
    ],
)
def test_hook_files_pattern(path: str, matches: bool) -> None:
    # pre-commit applies `files` with re.search to repository-relative paths.
    pattern = str(hook()["files"])
    assert bool(re.search(pattern, path)) is matches


def readme_snippet(page: Path) -> str:
    """The ``.pre-commit-config.yaml`` a page tells users to write, exactly as written."""
    (block,) = [
        b.split("```", 1)[0]
        for b in page.read_text(encoding="utf-8").split("```yaml\n")[1:]
        if "id: connprof-lint" in b.split("```", 1)[0]
    ]
    return block


def test_the_readme_and_the_docs_give_one_snippet_naming_the_release_tag() -> None:
    snippet = readme_snippet(ROOT / "README.md")
    assert snippet == readme_snippet(ROOT / "docs" / "lint.md")
    version = re.search(
        r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.MULTILINE
    )
    assert version is not None
    # Releases are tagged v + the version: bumping it without the README's rev is caught here.
    (rev,) = re.findall(r"^\s+rev: (\S+)", snippet, re.MULTILINE)
    assert rev == f"v{version.group(1)}"


@pytest.mark.slow
def test_the_readme_snippet_works_with_the_real_pre_commit(tmp_path: Path) -> None:
    """The README's snippet, as written, installs the hook with the real pre-commit and runs it.

    The hook repository is a clone of this one: a snapshot of the working tree (tracked and
    untracked files, minus what .gitignore leaves out), so uncommitted work is what gets tested.
    Honest about the tag: a tag made on a branch does not travel with a merge, so the clone gets
    the release tag here, as a release would give it; first, the test shows the snippet fails
    without it (pre-commit's own error), which is why the docs name the SHA alternative. Needs
    PyPI for the hook's environment.
    """
    git_env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com",
        "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-home"),
    }  # fmt: skip

    def git(*args: str, cwd: Path) -> str:
        return subprocess.run(
            ["git", *args], cwd=cwd, env=git_env, check=True, capture_output=True, text=True
        ).stdout

    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"],
        cwd=ROOT, check=True, capture_output=True, text=True,
    ).stdout.split("\0")  # fmt: skip
    clone = tmp_path / "connprof-repo"
    for name in filter(None, listed):
        source = ROOT / name
        if source.is_file():
            target = clone / name
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(source.read_bytes())
    git("init", "-q", cwd=clone)
    git("add", "-A", cwd=clone)
    git("commit", "-q", "-m", "snapshot", cwd=clone)

    snippet = readme_snippet(ROOT / "README.md")
    assert "<the connprof repository URL>" in snippet
    work = tmp_path / "work"
    work.mkdir()
    git("init", "-q", cwd=work)
    write_file(
        work / ".pre-commit-config.yaml",
        snippet.replace("<the connprof repository URL>", str(clone)),
    )
    write_file(work / "connprof.yaml", CLEAN)
    write_file(work / "deploy" / "bad.connprof.yaml", BAD)
    write_file(work / "sample_profiles" / "notes.yaml", "not: [a profile\n")  # not matched
    git("add", "-A", cwd=work)

    def run(*files: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "pre_commit", "run", "--files", *files],
            cwd=work, env=git_env, capture_output=True, text=True, check=False,
        )  # fmt: skip

    untagged = run("connprof.yaml")
    assert untagged.returncode != 0
    assert "did not match any file(s) known to git" in untagged.stdout + untagged.stderr

    (rev,) = re.findall(r"^\s+rev: (\S+)", snippet, re.MULTILINE)
    git("tag", rev, cwd=clone)
    clean = run("connprof.yaml", "sample_profiles/notes.yaml")
    assert clean.returncode == 0, clean.stdout + clean.stderr
    assert re.search(r"connprof lint\.+Passed", clean.stdout), clean.stdout

    bad = run("deploy/bad.connprof.yaml")
    assert bad.returncode == 1, bad.stdout + bad.stderr
    assert re.search(r"connprof lint\.+Failed", bad.stdout)
    assert (
        "deploy/bad.connprof.yaml:8:33: CP002 error auth.password holds a plaintext secret"
        in bad.stdout
    )
    assert "hunter2" not in bad.stdout + bad.stderr


def test_check_files_without_cryptography_names_the_extra(tmp_path: Path) -> None:
    cert = ROOT / "tests" / "lint" / "examples" / "CP042" / "good" / "certs" / "valid.pem"
    profiles = write_file(
        tmp_path / "p.yaml",
        f"profiles:\n  a:\n    driver: cassandra\n    hosts: [localhost]\n"
        f"    tls: {{ca: {cert}, verify: ca}}\n",
    )
    probe = (
        "import sys; sys.modules['cryptography'] = None\n"
        "from connprof._cli import main\n"
        f"sys.exit(main(['lint', '--check-files', {str(profiles)!r}]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 1
    assert done.stderr == (
        "connprof: error: --check-files reads certificates with the 'cryptography' package, "
        "which is not installed; pip install 'connprof[lint]'\n"
    )
