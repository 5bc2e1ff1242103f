#!/usr/bin/env python3
"""Rust by Example through kiln against `rustdoc --test`, same run.

Rust by Example ships with the toolchain's `rust-docs` component (rendered
by mdBook under `share/doc/rust/html/rust-by-example`), so this needs no
network: it takes every English chapter's Rust blocks (hidden lines kept as
`# ` lines, the fence attributes `ignore`, `no_run`, `compile_fail`,
`should_panic` and `editionN` kept), writes them as a kiln site (one
article per chapter) and as plain Markdown files, and times:

- kiln's cold build (empty cache), median of --runs, sandboxed and with
  `snippets.sandbox = "off"`;
- `rustdoc --test --edition 2021` on each chapter, one after another
  (as mdBook's `mdbook test` runs it), once per run, median of --runs.

Usage: python3 benches/rbe.py [--kiln target/release/kiln] [--runs 3]
(`rustup component add rust-docs` if the book is missing).
"""
import argparse
import html
import json
import os
import re
import shutil
import statistics
import subprocess
import tempfile
import time

BLOCK = re.compile(r'<code class="language-rust([^"]*)">(.*?)</code>', re.S)
BORING = re.compile(r'<span class="boring">(.*?)</span>', re.S)
KEEP = {"ignore", "no_run", "compile_fail", "should_panic"}


def book_dir():
    sysroot = subprocess.run(["rustc", "--print", "sysroot"], capture_output=True, text=True).stdout.strip()
    return os.path.join(sysroot, "share/doc/rust/html/rust-by-example")


def blocks(path):
    text = open(path, encoding="utf-8").read()
    for classes, body in BLOCK.findall(text):
        body = BORING.sub(lambda m: "".join("# " + l if l.strip() else "#" for l in m.group(1).splitlines(True)), body)
        body = html.unescape(re.sub(r"<[^>]+>", "", body))
        attrs = [c for c in classes.split() if c in KEEP or c.startswith("edition")]
        yield attrs, body


def chapters(book):
    for root, dirs, files in os.walk(book):
        rel = os.path.relpath(root, book)
        if rel.split(os.sep)[0] in {"es", "ja", "ko", "zh", "css", "fonts", "theme"}:
            dirs[:] = []
            continue
        for name in sorted(files):
            if name.endswith(".html") and name not in {"print.html", "toc.html", "404.html"}:
                yield os.path.join(root, name), os.path.join(rel, name)[:-5].lstrip("./")


def write_sites(book, out):
    site, plain = os.path.join(out, "site"), os.path.join(out, "plain")
    count = 0
    for path, rel in chapters(book):
        found = list(blocks(path))
        if not found:
            continue
        fences = "".join(f"```rust{''.join(',' + a for a in attrs)}\n{body}\n```\n\n" for attrs, body in found)
        count += len(found)
        slug = rel.replace(os.sep, "-") or "index"
        os.makedirs(os.path.join(site, "content"), exist_ok=True)
        os.makedirs(plain, exist_ok=True)
        with open(os.path.join(site, "content", slug + ".md"), "w") as f:
            f.write(f"---\ntitle: {slug}\n---\n{fences}")
        with open(os.path.join(plain, slug + ".md"), "w") as f:
            f.write(fences)
    with open(os.path.join(site, "kiln.toml"), "w") as f:
        f.write("search = false\n")
    return site, plain, count


def timed(command, **kwargs):
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, **kwargs)
    return time.perf_counter() - start, result


def kiln_cold(kiln, site, sandbox):
    with open(os.path.join(site, "kiln.toml"), "w") as f:
        f.write(f'search = false\n[snippets]\nsandbox = "{sandbox}"\n')
    shutil.rmtree(os.path.join(site, ".kiln-cache"), ignore_errors=True)
    output = os.path.join("/dev/shm", f"kiln-rbe-{os.getpid()}")
    shutil.rmtree(output, ignore_errors=True)
    # A failing snippet fails the build, after every snippet has run.
    report = os.path.join(site, "report.json")
    seconds, _ = timed([kiln, "build", "--root", site, "--output", output, "--report", report])
    shutil.rmtree(output, ignore_errors=True)
    snippets = json.load(open(report)).get("snippets", [])
    return seconds, sum(1 for s in snippets if s.get("outcome") == "failed")


def rustdoc_all(plain):
    total, failed = 0.0, 0
    for name in sorted(os.listdir(plain)):
        seconds, result = timed(["rustdoc", "--test", "--edition", "2021", name], cwd=plain)
        total += seconds
        failed += len(re.findall(r"^test .* FAILED$", result.stdout, re.M))
    return total, failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--kiln", default="target/release/kiln")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    kiln = os.path.abspath(args.kiln)
    book = book_dir()
    if not os.path.isdir(book):
        raise SystemExit(f"no Rust by Example at {book}: rustup component add rust-docs")
    with tempfile.TemporaryDirectory() as out:
        site, plain, count = write_sites(book, out)
        chapters_n = len(os.listdir(plain))
        walled, off, docs = [], [], []
        for _ in range(args.runs):
            walled.append(kiln_cold(kiln, site, "best-effort"))
            off.append(kiln_cold(kiln, site, "off"))
            docs.append(rustdoc_all(plain))
        med = lambda xs: statistics.median(x[0] for x in xs)
        k, o, d = med(walled), med(off), med(docs)
        print(f"Rust by Example: {count} blocks in {chapters_n} chapters, medians of {args.runs}")
        print(f"kiln cold, sandboxed:   {k:7.2f} s  ({walled[0][1]} snippets failed)")
        print(f"kiln cold, sandbox off: {o:7.2f} s  ({off[0][1]} snippets failed)")
        print(f"rustdoc --test:         {d:7.2f} s  ({docs[0][1]} tests failed)")
        print(f"kiln / rustdoc: {k / d:.2f}x sandboxed, {o / d:.2f}x sandbox off; walls cost {100 * (k - o) / o:+.1f}%")


if __name__ == "__main__":
    main()
