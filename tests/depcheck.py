#!/usr/bin/env python3
"""depcheck.py: fails when hgwd's modules call each other in a circle, or a daemon/ file is too long.

The rule (issue 9): calls between hgwd's modules go one way. A module is one
object file of daemon/hgwd (daemon/hgwd-peer.o is module "peer"). Module A
depends on module B when A uses (nm: U) a global symbol that B defines (nm:
T, D, B, R, C, ...). The module graph must have no cycle, with one exception:
the control-socket server and its command handlers, `ctl` and the "cmd" group
(`cmd`, `cmd_show`, `cmd_table`, every `cmd_*`), may call each other; they
are one layer (ALLOWED_CYCLES below). `cmdtree` (the pure grammar) is not in
the group. Every strongly connected component (Tarjan) of more than one
module that is not inside an allowed set is reported: its modules, one
elementary cycle through each of its edges (`a -> b -> c -> a`), and the
symbols that make each edge.

Second rule: no daemon/*.c or daemon/*.h in the source tree has more than
MAX_LINES lines.

Usage:
  depcheck.py --builddir BUILD --srcdir SRC   check hgwd (make check does this)
  depcheck.py --objects a.o b.o ...           check these object files only
  depcheck.py --self-test                     prove on tiny C files that a cycle,
                                              and a long file, make the check fail
Exit status: 0 clean, 1 a rule is broken, 2 the check could not run.
"""

import argparse
import fnmatch
import glob
import os
import re
import subprocess
import sys
import tempfile

MAX_LINES = 1000

# Modules that count as one node of the graph: pattern -> group name.
GROUPS = [("cmd", "cmd"), ("cmd_*", "cmd")]

# Sets of (grouped) modules allowed to depend on each other in a circle.
ALLOWED_CYCLES = [frozenset(("ctl", "cmd"))]

# nm symbol types that define a global symbol.
DEFINED_TYPES = set("TDBRCGSVWui")


class CheckError(Exception):
    """The check could not run (missing build, no nm): exit status 2."""


def module_of(obj):
    """daemon/hgwd-peer.o or daemon/daemon_hgwd-peer.o -> peer."""
    base = os.path.basename(obj)
    if base.endswith(".o"):
        base = base[:-2]
    for prefix in ("daemon_hgwd-", "hgwd-"):
        if base.startswith(prefix):
            return base[len(prefix):]
    return base


def group_of(module):
    for pattern, group in GROUPS:
        if fnmatch.fnmatchcase(module, pattern):
            return group
    return module


def read_make_vars(path):
    """The NAME = value assignments of a generated Makefile (continuations joined)."""
    text = open(path, encoding="utf-8", errors="replace").read()
    text = text.replace("\\\n", " ")
    out = {}
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z_][A-Za-z0-9_]*)\s*=(.*)$", line)
        if m:
            out[m.group(1)] = m.group(2).strip()
    return out


def expand(value, make_vars, depth=0):
    if depth > 20:
        raise CheckError("Makefile variables nest too deep")
    return re.sub(r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)",
                  lambda m: expand(make_vars.get(m.group(1), ""), make_vars, depth + 1),
                  value)


def hgwd_objects(builddir):
    """The object files linked into daemon/hgwd, from the build's Makefile (else by name)."""
    makefile = os.path.join(builddir, "Makefile")
    objs = []
    if os.path.isfile(makefile):
        make_vars = read_make_vars(makefile)
        make_vars.setdefault("OBJEXT", "o")
        if "daemon_hgwd_OBJECTS" not in make_vars:
            raise CheckError(f"{makefile}: no daemon_hgwd_OBJECTS; is this hgw's build directory?")
        objs = [o for o in expand("$(daemon_hgwd_OBJECTS)", make_vars).split() if o.endswith(".o")]
        objs = [os.path.join(builddir, o) for o in objs]
    else:
        for pattern in ("daemon/hgwd-*.o", "daemon/daemon_hgwd-*.o"):
            objs += glob.glob(os.path.join(builddir, pattern))
    if not objs:
        raise CheckError(f"{builddir}: no object files of daemon/hgwd found")
    missing = [o for o in objs if not os.path.isfile(o)]
    if missing:
        raise CheckError("not built (run make first): " + " ".join(missing))
    return sorted(objs)


def symbols(obj):
    """(defined, undefined) global symbol names of one object file, from nm -P."""
    try:
        res = subprocess.run(["nm", "-P", obj], capture_output=True, text=True)
    except FileNotFoundError:
        raise CheckError("nm not found (apt-get install binutils)") from None
    if res.returncode != 0:
        raise CheckError(f"nm {obj}: {res.stderr.strip()}")
    defined, undefined = set(), set()
    for line in res.stdout.splitlines():
        parts = line.split()
        if len(parts) < 2:
            continue
        name, kind = parts[0], parts[1]
        if kind in ("U", "w", "v"):
            undefined.add(name)
        elif kind in DEFINED_TYPES:
            defined.add(name)
    return defined, undefined


def build_graph(objs):
    """{group: {group: [symbol, ...]}}: who uses whose symbols (a symbol is labelled
    with the modules when one of them is not its group's namesake, e.g. cmd_show)."""
    defs = {}
    uses = {}
    for obj in objs:
        mod = module_of(obj)
        d, u = symbols(obj)
        uses[mod] = u
        for name in d:
            defs.setdefault(name, mod)
    members = {}
    for mod in uses:
        members.setdefault(group_of(mod), set()).add(mod)
    graph = {g: {} for g in members}
    for mod, used in uses.items():
        g = group_of(mod)
        for name in used:
            owner = defs.get(name)
            if owner is None or group_of(owner) == g:
                continue
            label = name
            if mod != g or owner != group_of(owner):
                label = f"{name} ({mod} -> {owner})"
            graph[g].setdefault(group_of(owner), []).append(label)
    for g in graph:
        for h in graph[g]:
            graph[g][h].sort()
    return graph


def tarjan(graph):
    """Strongly connected components, each a sorted list (iterative Tarjan)."""
    index = {}
    low = {}
    on_stack = set()
    stack = []
    out = []
    counter = 0
    for root in sorted(graph):
        if root in index:
            continue
        work = [(root, iter(sorted(graph[root])))]
        index[root] = low[root] = counter
        counter += 1
        stack.append(root)
        on_stack.add(root)
        while work:
            node, it = work[-1]
            advanced = False
            for nxt in it:
                if nxt not in index:
                    index[nxt] = low[nxt] = counter
                    counter += 1
                    stack.append(nxt)
                    on_stack.add(nxt)
                    work.append((nxt, iter(sorted(graph[nxt]))))
                    advanced = True
                    break
                if nxt in on_stack:
                    low[node] = min(low[node], index[nxt])
            if advanced:
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                comp = []
                while True:
                    w = stack.pop()
                    on_stack.discard(w)
                    comp.append(w)
                    if w == node:
                        break
                out.append(sorted(comp))
    return out


def shortest_path(graph, src, dst, allowed):
    """Shortest path src .. dst (a list of nodes) inside the node set allowed (BFS)."""
    prev = {src: None}
    queue = [src]
    for node in queue:
        if node == dst:
            break
        for nxt in sorted(graph[node]):
            if nxt in allowed and nxt not in prev:
                prev[nxt] = node
                queue.append(nxt)
    if dst not in prev:
        return None
    path = [dst]
    while prev[path[-1]] is not None:
        path.append(prev[path[-1]])
    return path[::-1]


def cycles_covering(graph, comp):
    """One elementary cycle through each edge of the component, without repeats."""
    nodes = set(comp)
    seen = set()
    cycles = []
    for a in comp:
        for b in sorted(graph[a]):
            if b not in nodes:
                continue
            back = shortest_path(graph, b, a, nodes)
            cycle = [a] + back[:-1]
            i = cycle.index(min(cycle))
            key = tuple(cycle[i:] + cycle[:i])
            if key not in seen:
                seen.add(key)
                cycles.append(list(key))
    return sorted(cycles, key=lambda c: (len(c), c))


def allowed(nodes):
    return any(set(nodes) <= s for s in ALLOWED_CYCLES)


def check_cycles(graph, out):
    """Print each forbidden cycle; return how many components are bad."""
    bad = 0
    for comp in tarjan(graph):
        if len(comp) < 2 or allowed(comp):
            continue
        bad += 1
        print(f"depcheck: dependency circle among {len(comp)} modules: {', '.join(comp)}", file=out)
        for cycle in cycles_covering(graph, comp):
            if allowed(cycle):
                continue
            print("  cycle: " + " -> ".join(cycle + [cycle[0]]), file=out)
        print("  edges (module -> module it uses: symbols):", file=out)
        for a in comp:
            for b in sorted(graph[a]):
                if b in comp:
                    print(f"    {a} -> {b}: {', '.join(graph[a][b])}", file=out)
    return bad


def check_lengths(srcdir, out):
    """Print each daemon/*.c, *.h over MAX_LINES lines; return how many."""
    files = sorted(glob.glob(os.path.join(srcdir, "daemon", "*.c")) +
                   glob.glob(os.path.join(srcdir, "daemon", "*.h")))
    if not files:
        raise CheckError(f"{srcdir}: no daemon/*.c files (wrong --srcdir?)")
    bad = 0
    for path in files:
        with open(path, encoding="utf-8", errors="replace") as f:
            n = sum(1 for _ in f)
        if n > MAX_LINES:
            bad += 1
            print(f"depcheck: {os.path.relpath(path, srcdir)}: {n} lines, more than {MAX_LINES}", file=out)
    return bad


def run(objs, srcdir, out=sys.stdout):
    graph = build_graph(objs)
    bad = check_cycles(graph, out)
    if srcdir is not None:
        bad += check_lengths(srcdir, out)
    if bad:
        print(f"depcheck: FAIL ({bad} problem(s)); see the rule at the top of tests/depcheck.py", file=out)
        return 1
    names = ", ".join(sorted(graph))
    print(f"depcheck: ok: {len(graph)} modules ({names}), no forbidden cycle", file=out)
    return 0


# --- self-test: the check must catch a cycle, so it cannot pass silently ---

SELF_CASES = [
    # (name, {file: source}, expected exit status, text the report must contain)
    ("acyclic pair", {"a": "int b_f(void); int a_f(void) { return b_f(); }",
                      "b": "int b_f(void) { return 1; }"}, 0, "no forbidden cycle"),
    ("two-module cycle", {"a": "int b_f(void); int a_f(void) { return b_f(); }",
                          "b": "int a_f(void); int b_f(void) { return a_f(); }"}, 1,
     "cycle: a -> b -> a"),
    ("three-module cycle through data", {
        "a": "extern int b_v; int a_f(void) { return b_v; }",
        "b": "int c_f(void); int b_v = 1; int b_g(void) { return c_f(); }",
        "c": "int a_f(void); int c_f(void) { return a_f(); }"}, 1, "cycle: a -> b -> c -> a"),
    ("allowed ctl <-> cmd group", {
        "ctl": "int cmd_run(void); int ctl_reply(void) { return cmd_run(); }",
        "cmd": "int ctl_reply(void); int cmd_show_x(void); int cmd_run(void) { return ctl_reply() + cmd_show_x(); }",
        "cmd_show": "int ctl_reply(void); int cmd_show_x(void) { return ctl_reply(); }"}, 0,
     "no forbidden cycle"),
    ("cycle through the cmd group", {
        "ctl": "int cmd_run(void); int ctl_reply(void) { return cmd_run(); }",
        "cmd_show": "int peer_n(void); int cmd_run(void) { return peer_n(); }",
        "peer": "int ctl_reply(void); int peer_n(void) { return ctl_reply(); }"}, 1,
     "peer_n (cmd_show -> peer)"),
]


def self_test():
    cc = os.environ.get("CC", "cc").split()
    failures = 0
    with tempfile.TemporaryDirectory(prefix="depcheck.") as tmp:
        for name, files, want, text in SELF_CASES:
            case = os.path.join(tmp, str(SELF_CASES.index((name, files, want, text))))
            os.makedirs(os.path.join(case, "daemon"))
            objs = []
            for mod, src in files.items():
                c = os.path.join(case, "daemon", mod + ".c")
                with open(c, "w") as f:
                    f.write(f"/* {mod}.c: depcheck self-test */\n{src}\n")
                o = os.path.join(case, "daemon", f"hgwd-{mod}.o")
                res = subprocess.run(cc + ["-c", "-o", o, c], capture_output=True, text=True)
                if res.returncode != 0:
                    raise CheckError(f"self-test: {' '.join(cc)} failed: {res.stderr.strip()}")
                objs.append(o)
            report = _Capture()
            got = run(objs, case, report)
            ok = got == want and text in report.text
            failures += not ok
            print(f"depcheck self-test: {name}: {'ok' if ok else 'FAILED'} (exit {got}, want {want})")
            if not ok:
                print(report.text, end="")
        # A daemon/ file over the limit fails even with no cycle.
        case = os.path.join(tmp, "long")
        os.makedirs(os.path.join(case, "daemon"))
        c = os.path.join(case, "daemon", "long.c")
        with open(c, "w") as f:
            f.write("/* long.c */\n" + "int x_f(void) { return 0; }\n" +
                    "\n" * MAX_LINES)
        o = os.path.join(case, "daemon", "hgwd-long.o")
        subprocess.run(cc + ["-c", "-o", o, c], check=True)
        report = _Capture()
        got = run([o], case, report)
        ok = got == 1 and f"daemon/long.c: {MAX_LINES + 2} lines" in report.text
        failures += not ok
        print(f"depcheck self-test: file over {MAX_LINES} lines: {'ok' if ok else 'FAILED'} (exit {got}, want 1)")
        if not ok:
            print(report.text, end="")
    # Object naming of both automake styles.
    for obj, want_mod in (("daemon/hgwd-peer.o", "peer"), ("daemon/daemon_hgwd-cmd_show.o", "cmd_show")):
        if module_of(obj) != want_mod or (want_mod == "cmd_show" and group_of(want_mod) != "cmd"):
            failures += 1
            print(f"depcheck self-test: module name of {obj}: FAILED ({module_of(obj)})")
    if failures:
        print(f"depcheck self-test: {failures} case(s) FAILED")
        return 1
    print("depcheck self-test: all cases ok")
    return 0


class _Capture:
    def __init__(self):
        self.text = ""

    def write(self, s):
        self.text += s


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--builddir", help="hgw build directory (with daemon/hgwd's objects)")
    ap.add_argument("--srcdir", help="hgw source directory (for the daemon/ line counts)")
    ap.add_argument("--objects", nargs="+", help="check these object files instead")
    ap.add_argument("--self-test", action="store_true", help="prove the check catches a cycle")
    args = ap.parse_args()
    try:
        if args.self_test:
            return self_test()
        if args.objects:
            objs = args.objects
        elif args.builddir:
            objs = hgwd_objects(args.builddir)
        else:
            ap.error("give --builddir, --objects or --self-test")
        return run(objs, args.srcdir)
    except CheckError as e:
        print(f"depcheck: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
