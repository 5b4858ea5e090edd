#!/usr/bin/env python3
"""sync_cmd_table.py: copies the daemon's command table into fuzz_cmd.c.

fuzz_cmd.c cannot link daemon/cmd.c (it needs the whole daemon), so it holds a
copy of the cmd_defs[] and cmd_show_defs[] entries with the handlers replaced
by dummy(). run.sh warns when the copy is out of date; then run
    python3 tests/fuzz/sync_cmd_table.py
With --check it changes nothing and exits 1 when the copy is out of date.
"""
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(os.path.dirname(HERE))
# A handler: the identifier before the flags and the closing brace.
HANDLER = re.compile(r"\b[a-z_][a-z0-9_]*(?=,\s*[A-Z0-9_ |]+\s*\})")


def entries(path, array):
    src = open(os.path.join(TOP, path)).read()
    m = re.search(r"\bstruct cmd_def " + array + r"\[\] = \{\n(.*?)\n\};", src, re.S)
    if m is None:
        sys.exit(f"sync_cmd_table.py: no {array}[] in {path}")
    body, n = HANDLER.subn("dummy", m.group(1))
    if n == 0:
        sys.exit(f"sync_cmd_table.py: no handler found in {path}")
    # The macros the entries use (R, P, S...): their #defines before the array.
    defines = "".join(d + "\n" for d in re.findall(
        r'^#define [A-Z] [^\n]*$', src[:m.start()], re.M))
    return defines, body


def main():
    path = os.path.join(HERE, "fuzz_cmd.c")
    text = open(path).read()
    for name, array in (("daemon/cmd.c", "cmd_defs"), ("daemon/cmd_show.c", "cmd_show_defs")):
        defines, body = entries(name, array)
        begin = f"/* BEGIN copy of {name} */\n"
        end = f"/* END copy of {name} */\n"
        a, b = text.index(begin) + len(begin), text.index(end)
        undefs = "".join("#undef " + d.split()[1] + "\n" for d in defines.splitlines())
        text = text[:a] + defines + body + "\n" + undefs + text[b:]
    if sys.argv[1:] == ["--check"]:
        if text != open(path).read():
            print("fuzz_cmd.c's copy of the command table is out of date: "
                  "run tests/fuzz/sync_cmd_table.py")
            sys.exit(1)
        return
    open(path, "w").write(text)
    print(f"updated {path}")


if __name__ == "__main__":
    main()
