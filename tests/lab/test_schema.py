"""Every ``show ... json`` against its JSON Schema in conf/schema/ (issue 13).

The list of commands is not written here: it is read from the daemon itself,
walking its command tree over the control socket with the ``%help`` request
hgwsh's ``?`` uses, from ``show``, following keywords and filling variables
(PEER, ROUTE) with the values the daemon offers for completion. Every path
that may end in ``json`` is a JSON command. So a new ``show X ... json`` fails
here until ``conf/schema/show-X.json`` exists (and is listed in
conf/local.mk's HGW_SCHEMAS, for the tarball), and a key the daemon starts
printing fails until its schema names it: every object in the schemas has
``additionalProperties: false`` and lists its fixed keys as ``required``.

Which schema: ``show-`` and the command's keywords joined by ``-``, the
longest that exists (``show peers detail json`` uses ``show-peers-detail.json``
if there is one, else ``show-peers.json``).

The lab has something in every list: h0 a seed with fixed networks, h1 and h2
leasing IPv4 and IPv6 subnets through it, h3 leasing with ``kernel off``; then
h2 is killed, so that h1 has a peer down being redialled, a learned member
with a give-up time, a reserved lease and installed routes (from h3).
"""

import json
import signal
import socket
from pathlib import Path

import jsonschema
import pytest

from hgwlab import wait_until

SCHEMA_DIR = Path(__file__).resolve().parents[2] / "conf" / "schema"
VALIDATOR = jsonschema.Draft202012Validator
FAST = (0.2, 0.6)
MAX_DEPTH = 8
# Values for variables the daemon does not complete (none in show commands yet).
SAMPLES = {"WORD": "x", "SECONDS": "1"}


def load_schemas() -> dict:
    schemas = {}
    for p in sorted(SCHEMA_DIR.glob("*.json")):
        try:
            schemas[p.stem] = json.loads(p.read_text())
        except json.JSONDecodeError as e:
            raise AssertionError(f"{p}: not JSON: {e}") from None
    return schemas


# ---- the control socket ------------------------------------------------------

def ctl_request(sock: Path, line: str, timeout=5.0) -> tuple[int, list[str]]:
    """One request on hgwd's control socket: (last code, [text of every line])."""
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.connect(str(sock))
        s.sendall(line.encode() + b"\n")
        buf = b""
        while True:
            chunk = s.recv(65536)
            if not chunk:
                raise AssertionError(f"{sock}: connection closed during {line!r}: {buf!r}")
            buf += chunk
            lines = buf.decode().split("\n")
            for i, ln in enumerate(lines[:-1]):
                if len(ln) >= 5 and ln[:4].isdigit() and ln[4] == " ":
                    return int(ln[:4]), [x[5:] for x in lines[:i + 1]]


def help_words(sock: Path, words: list[str]) -> list[str]:
    """What the daemon's '?' offers after ``words``."""
    line = "%help " + " ".join(words) + " "
    code, lines = ctl_request(sock, line)
    assert code == 0, f"{line!r}: {lines}"
    return [ln.split("\t", 1)[0] for ln in lines[:-1]]


def is_keyword(w: str) -> bool:
    return w[:1].islower() and all(c.islower() or c.isdigit() or c == "-" for c in w)


def is_variable(w: str) -> bool:
    return w.isupper() or w.startswith("(") or w in ("A.B.C.D", "X:X::X:X", "A.B.C.D/M", "X:X::X:X/M")


def json_commands(sock: Path) -> list[tuple[list[str], list[str]]]:
    """Every ``show ... json`` the daemon accepts: [(words, keywords)], keywords without "json".

    Variables take up to two of the values the daemon completes for them
    (peer addresses, prefixes), else a SAMPLES value, else the walk fails.
    """
    found, problems = [], []

    def walk(words, keywords):
        if len(words) > MAX_DEPTH:
            problems.append(f"'{' '.join(words)}': deeper than {MAX_DEPTH} words")
            return
        cands = help_words(sock, words)
        values = [w for w in cands if w != "<cr>" and not is_keyword(w) and not is_variable(w)]
        for w in cands:
            if w == "<cr>" or (not is_keyword(w) and not is_variable(w)):
                continue
            if w == "json":
                found.append((words + ["json"], keywords))
                walk(words + ["json"], keywords)
            elif is_keyword(w):
                walk(words + [w], keywords + [w])
            elif values:
                for v in values[:2]:
                    walk(words + [v], keywords)
            elif w.startswith("(") and "-" in w:
                walk(words + [w[1:].split("-", 1)[0]], keywords)
            elif w in SAMPLES:
                walk(words + [SAMPLES[w]], keywords)
            else:
                problems.append(f"'{' '.join(words)} {w}': no value for {w} (completed by the daemon "
                                f"or in SAMPLES)")

    walk(["show"], ["show"])
    assert not problems, "cannot walk the show commands:\n  " + "\n  ".join(problems)
    return found


def schema_for(keywords: list[str], schemas: dict) -> str | None:
    for n in range(len(keywords), 1, -1):
        name = "-".join(keywords[:n])
        if name in schemas:
            return name
    return None


# ---- checks of the schema files themselves (no daemon) ---------------------------

def closed_objects(schema, path="#"):
    """Yield the path of every object schema that is not closed (additionalProperties false)."""
    if isinstance(schema, dict):
        if "properties" in schema and schema.get("additionalProperties") is not False:
            yield path
        for k, v in schema.items():
            yield from closed_objects(v, f"{path}/{k}")
    elif isinstance(schema, list):
        for i, v in enumerate(schema):
            yield from closed_objects(v, f"{path}/{i}")


@pytest.mark.no_daemon
def test_schemas_are_valid_and_closed():
    schemas = load_schemas()
    assert schemas, f"no schema files in {SCHEMA_DIR}"
    for name, s in schemas.items():
        assert s.get("$schema") == "https://json-schema.org/draft/2020-12/schema", \
            f"{name}.json: $schema must be draft 2020-12"
        VALIDATOR.check_schema(s)
        open_ = list(closed_objects(s))
        assert not open_, f"{name}.json: objects without additionalProperties false: {open_}"
        for p in ("properties", "required"):
            assert p in s, f"{name}.json: no top-level {p}"
        missing = [k for k in s["properties"] if k not in s["required"]]
        # Optional top-level keys are allowed, but only when the description says so.
        for k in missing:
            assert "absent" in s["properties"][k].get("description", ""), \
                f"{name}.json: top-level key {k} is not required and not described as may be absent"


@pytest.mark.no_daemon
def test_the_page_lists_every_schema():
    page = (SCHEMA_DIR.parent / "json-schema.md").read_text()
    unlisted = [n for n in load_schemas() if f"(schema/{n}.json)" not in page]
    assert not unlisted, f"conf/json-schema.md does not list {unlisted}"


@pytest.mark.no_daemon
def test_a_new_key_fails_validation():
    """The check can fail: an extra key anywhere, or a missing one, is an error."""
    s = load_schemas()["show-version"]
    good = {"version": "0.2.0", "protocolVersion": 1}
    VALIDATOR(s).validate(good)
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR(s).validate({**good, "newField": 1})
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR(s).validate({"version": "0.2.0"})
    peers = load_schemas()["show-peers"]
    with pytest.raises(jsonschema.ValidationError):
        VALIDATOR(peers).validate({"nodeId": "10.0.0.1", "peers": {"10.0.0.2": {"address": "10.0.0.2"}}})


# ---- the daemon's real output ----------------------------------------------------

def build_lab(make_lab):
    lab = make_lab(4, ipv6=True)
    h0, h1, h2, h3 = lab.hosts
    h0.start(neighbors=[], timers=FAST)
    for h in (h1, h2, h3):
        extra = h.lease_config(cluster="10.244.0.0/16", cluster6="fd00:244::/48", subnet_length6=64,
                               hold="1h")
        if h is h3:
            extra += "kernel off\n"
        h.start(wait=False, neighbors=[h0], networks=[], timers=FAST, extra_config=extra)
    for h in (h1, h2, h3):
        h.wait_ready()
    for h in (h1, h2, h3):
        h.wait_lease(4)
        h.wait_lease(6)
    wait_until(lambda: all(x.established_with(*[y for y in lab.hosts if y is not x]) for x in lab.hosts),
               15, msg="the full mesh of 4")
    h3_leases = {h3.lease(4), h3.lease(6)}
    wait_until(lambda: all((h1.show_route(p) or {}).get("fib") == "installed" for p in h3_leases),
               10, msg="h1 to install h3's subnets")
    h2_lease = h2.lease(4)
    h2.stop(sig=signal.SIGKILL)

    def h2_gone():
        m = h1.members().get(h2.lan_ip, {})
        return (h1.peer(h2.lan_ip)["state"] != "established" and m.get("giveUpInMs") is not None
                and h1.lease_table().get(h2_lease, {}).get("state") == "reserved")
    wait_until(h2_gone, 10, msg="h1 to see h2 down: a learned member redialled, its lease reserved")
    return lab


def empty_containers(doc) -> set:
    return {k for k, v in doc.items() if isinstance(v, (dict, list)) and not v}


@pytest.mark.timeout_s(90)
def test_every_show_json_validates_against_its_schema(make_lab):
    schemas = load_schemas()
    lab = build_lab(make_lab)
    hosts = [h for h in lab.hosts if h.running]
    failures, used = [], set()
    empty_everywhere: dict[str, set] = {}
    commands = {}
    for h in hosts:
        commands[h.name] = json_commands(h.sock)
        assert any(w[:2] == ["show", "peers"] for w, _ in commands[h.name]), \
            f"{h.name}: the walk found no show peers json: {commands[h.name]}"
    for h in hosts:
        for words, keywords in commands[h.name]:
            cmd = " ".join(words)
            name = schema_for(keywords, schemas)
            if name is None:
                failures.append(f"'{cmd}': no schema: add {SCHEMA_DIR}/{'-'.join(keywords)}.json "
                                "(and list it in conf/local.mk's HGW_SCHEMAS)")
                continue
            used.add(name)
            cp = h.hgwsh_raw(cmd)
            if cp.returncode != 0:
                failures.append(f"{h.name}: '{cmd}' failed (rc {cp.returncode}): {cp.stderr.strip()}")
                continue
            try:
                doc = json.loads(cp.stdout)
            except json.JSONDecodeError as e:
                failures.append(f"{h.name}: '{cmd}' printed invalid JSON ({e}):\n{cp.stdout[:2000]}")
                continue
            errors = sorted(VALIDATOR(schemas[name]).iter_errors(doc), key=lambda e: list(e.path))
            for e in errors[:5]:
                where = "/".join(str(p) for p in e.path) or "(top)"
                failures.append(f"{h.name}: '{cmd}' against {name}.json at {where}: {e.message}")
            if isinstance(doc, dict):
                key = f"{name} ({cmd.split(' ')[1]})"
                empty_everywhere[key] = empty_everywhere.get(key, empty_containers(doc)) & empty_containers(doc)
    unused = sorted(set(schemas) - used)
    if unused:
        failures.append(f"schemas of no command the daemon has: {unused}")
    # Validation means little on empty lists: the lab must fill each of them somewhere.
    for key, empty in sorted(empty_everywhere.items()):
        if empty:
            failures.append(f"{key}: {sorted(empty)} empty on every host: the lab does not exercise them")
    assert not failures, "\n".join(dict.fromkeys(failures))
