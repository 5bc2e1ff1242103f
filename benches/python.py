#!/usr/bin/env python3
"""100 small Python snippets through kiln against plain `python3`, same run.

Writes a site of 10 articles with 10 `python,run` blocks each (small
programs: sorting, a dict, a loopback socket pair, json, a class, a
generator, an exception caught, string formatting, a set, math), and the
same 100 programs as plain files. Then times, each a median of --runs:

- plain: `python3 FILE` for each of the 100 files, one after another;
- kiln cold, sandboxed: `kiln build --fresh` (the default walls);
- kiln cold, `snippets.sandbox = "off"`: what the walls cost;
- kiln warm: `kiln build` again, nothing changed;
- the first install of a requirements file (a local pure-Python wheel, so
  nothing is downloaded) and the warm build after it.

Usage: python3 benches/python.py [--kiln target/release/kiln] [--runs 3]
"""
import argparse
import base64
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
import zipfile

PROGRAMS = [
    "print(sorted([5, 3, 9, 1], reverse=True))",
    "d = {'b': 2, 'a': 1}\nprint(sorted(d.items()))",
    "import socket\na, b = socket.socketpair()\na.sendall(b'ping')\nprint(b.recv(4))",
    "import json\nprint(json.dumps({'k': [1, 2, 3]}, sort_keys=True))",
    "class P:\n    def __init__(self, x):\n        self.x = x\n    def __repr__(self):\n        return f'P({self.x})'\nprint(P(N))",
    "def gen(n):\n    yield from range(n)\nprint(sum(gen(N + 10)))",
    "try:\n    {}['x']\nexcept KeyError as e:\n    print('caught', e)",
    "print(f'{N:>8}|{N / 7:.3f}|{N:#x}')",
    "print(sorted({'pear', 'fig', 'apple'}))",
    "import math\nprint(math.comb(20, N % 20), math.isqrt(N * 1000))",
]


def site(root, n_articles=10, per_article=10):
    os.makedirs(os.path.join(root, "content"))
    os.makedirs(os.path.join(root, "plain"))
    index = 0
    for a in range(n_articles):
        blocks = []
        for b in range(per_article):
            code = PROGRAMS[b].replace("N", str(index))
            blocks.append(f"Snippet {index}:\n\n```python,run\n{code}\n```\n")
            with open(os.path.join(root, "plain", f"s{index:03}.py"), "w") as f:
                f.write(code + "\n")
            index += 1
        with open(os.path.join(root, "content", f"a{a:02}.md"), "w") as f:
            f.write(f"---\ntitle: Python {a}\n---\n" + "\n".join(blocks))
    return index


def wheel(folder):
    """A pure-Python wheel `kiln-demo 1.2.3` in `folder`."""
    os.makedirs(folder, exist_ok=True)
    files = {
        "kiln_demo/__init__.py": "def greet():\n    return 'hello'\n",
        "kiln_demo-1.2.3.dist-info/METADATA": "Metadata-Version: 2.1\nName: kiln-demo\nVersion: 1.2.3\n",
        "kiln_demo-1.2.3.dist-info/WHEEL": "Wheel-Version: 1.0\nGenerator: bench\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    with zipfile.ZipFile(os.path.join(folder, "kiln_demo-1.2.3-py3-none-any.whl"), "w") as whl:
        for name, text in files.items():
            data = text.encode()
            digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
            record.append(f"{name},sha256={digest},{len(data)}")
            whl.writestr(name, data)
        record.append("kiln_demo-1.2.3.dist-info/RECORD,,")
        whl.writestr("kiln_demo-1.2.3.dist-info/RECORD", "\n".join(record) + "\n")


def timed(command, cwd, env=None):
    started = time.perf_counter()
    done = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{command} failed:\n{done.stdout}\n{done.stderr}")
    return elapsed, done.stdout


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", default="target/release/kiln")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kiln = os.path.abspath(args.kiln)
    work = tempfile.mkdtemp(prefix="kiln-python-bench-")
    root = os.path.join(work, "site")
    count = site(root)
    plain_files = sorted(os.listdir(os.path.join(root, "plain")))
    # `python3` on PATH may be a launcher (pyenv's shim is a shell
    # script); kiln runs the interpreter it names, so that is timed too.
    real = subprocess.run(["python3", "-c", "import sys; print(sys.executable)"],
                          capture_output=True, text=True, check=True).stdout.strip()
    results = {k: [] for k in ["plain", "real", "sandboxed", "off", "warm", "install", "after install"]}
    config = os.path.join(root, "kiln.toml")
    for _ in range(args.runs):
        started = time.perf_counter()
        for name in plain_files:
            subprocess.run(["python3", os.path.join("plain", name)], cwd=root, check=True, capture_output=True)
        results["plain"].append(time.perf_counter() - started)
        started = time.perf_counter()
        for name in plain_files:
            subprocess.run([real, os.path.join("plain", name)], cwd=root, check=True, capture_output=True)
        results["real"].append(time.perf_counter() - started)
        for mode in ["sandboxed", "off"]:
            with open(config, "w") as f:
                f.write("search = false\n" + ('[snippets]\nsandbox = "off"\n' if mode == "off" else ""))
            elapsed, out = timed([kiln, "build", "--fresh"], root)
            assert f"snippets: {count} (0 cached)" in out, out
            results[mode].append(elapsed)
        elapsed, out = timed([kiln, "build"], root)
        assert "0 Python processes" in out, out
        results["warm"].append(elapsed)
    # The first install of a requirements file, and the build after it.
    wheels = os.path.join(work, "wheels")
    wheel(wheels)
    env = dict(os.environ, PIP_NO_INDEX="1", PIP_FIND_LINKS=wheels)
    with open(config, "w") as f:
        f.write("search = false\n")
    os.makedirs(os.path.join(root, "snippets"), exist_ok=True)
    with open(os.path.join(root, "snippets", "requirements.txt"), "w") as f:
        f.write("kiln-demo==1.2.3\n")
    for _ in range(args.runs):
        for area in ["python", "runs"]:
            shutil.rmtree(os.path.join(root, ".kiln-cache", area), ignore_errors=True)
        elapsed, out = timed([kiln, "build"], root, env)
        assert "packages installed by pip" in out, out
        results["install"].append(elapsed)
        elapsed, out = timed([kiln, "build"], root, env)
        results["after install"].append(elapsed)
    median = {k: statistics.median(v) for k, v in results.items()}
    print(f"{count} snippets, {os.cpu_count()} cores, medians of {args.runs}")
    print(f"plain python3, one after another: {median['plain']:.2f} s ({median['plain'] / count * 1000:.1f} ms each)")
    print(f"plain {real}, one after another: {median['real']:.2f} s ({median['real'] / count * 1000:.1f} ms each)")
    for mode in ["sandboxed", "off"]:
        print(f"kiln cold, {mode}: {median[mode]:.2f} s ({median[mode] / median['plain']:.2f}x plain python3, "
              f"{median[mode] / median['real']:.2f}x the interpreter itself)")
    cost = (median["sandboxed"] - median["off"]) / count * 1000
    print(f"the walls: {cost:.1f} ms of wall time per snippet (sandboxed - off, / {count})")
    print(f"kiln warm: {median['warm']:.3f} s")
    print(f"first install of requirements.txt, then every snippet again: {median['install']:.2f} s "
          f"(about {median['install'] - median['sandboxed']:.2f} s for the venv and pip)")
    print(f"warm build after it: {median['after install']:.3f} s")
    print("all runs:", {k: [round(x, 3) for x in v] for k, v in results.items()})
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
