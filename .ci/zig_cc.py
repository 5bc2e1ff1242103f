#!/usr/bin/env python3
"""A C compiler for another system, through zig (PyPI's `ziglang`), for
`cargo check` of kiln's C dependencies (oniguruma, through syntect) for
macOS: `zig_cc.py TARGET ARGS...` runs `zig cc -target TARGET ARGS...`,
leaving out the flags that say the target in clang's own words (`-arch X`,
`--target=…`, `-mmacosx-version-min=…`), which zig would refuse."""
import os
import sys

target, args = sys.argv[1], sys.argv[2:]
kept = []
skip = False
for arg in args:
    if skip:
        skip = False
    elif arg in ("-arch", "-target"):
        skip = True
    elif not arg.startswith(("-mmacosx-version-min=", "--target=")):
        kept.append(arg)
os.execvp(sys.executable, [sys.executable, "-m", "ziglang", "cc", "-target", target, *kept])
