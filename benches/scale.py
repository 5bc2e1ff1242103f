#!/usr/bin/env python3
"""kiln against Zola at knowledge-base scale, as same-run ratios.

usage: benches/scale.py KILN ZOLA [--n 10000] [--runs 3] [--dir /dev/shm/kiln-scale]

KILN is a release `kiln` (`cargo build --release`: target/release/kiln);
ZOLA is the Zola of ../shared/anchors (`gunzip -c` it, see its README).
The corpus is `gen_corpus.py` of the anchors (the same articles in each
tool's format), rust fences marked `ignore` for kiln so that both only
render. Output goes to DIR (tmpfs by default). kiln and Zola runs are
alternated, each job RUNS times; wall time and peak RSS come from
`/usr/bin/time`, and the table gives medians (RSS: the largest).

Jobs:
- cold, search off: kiln with `search = false` and no cache, against Zola's
  default build (no search index, no feed).
- cold, search on: kiln's default build (Pagefind index, feed) with no
  cache, against Zola with `build_search_index` and `generate_feeds`.
- warm, nothing changed: kiln (search on) built again; ratio to its cold.
- one article edited: kiln (search on) after appending a line to one
  article; Zola has no incremental build (its number is its cold build).
- serve: `kiln serve`, edit -> edited page served (benches/serve_edit.py).
"""
import argparse, os, re, shutil, statistics, subprocess, sys

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "shared", "anchors", "gen_corpus.py")

def timed(cmd, cwd):
    out = subprocess.run(["/usr/bin/time", "-f", "TIME %e %M", *cmd], cwd=cwd,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed:\n{out.stdout}\n{out.stderr}")
    wall, rss = re.findall(r"TIME ([\d.]+) (\d+)", out.stderr)[-1]
    return float(wall), int(rss) // 1024, out.stdout

def median(xs):
    return statistics.median(xs)

def main():
    p = argparse.ArgumentParser()
    p.add_argument("kiln"); p.add_argument("zola")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--dir", default="/dev/shm/kiln-scale")
    p.add_argument("--gen", default=GEN)
    a = p.parse_args()
    kiln, zola = os.path.abspath(a.kiln), os.path.abspath(a.zola)
    k, z = os.path.join(a.dir, "kiln"), os.path.join(a.dir, "zola")
    shutil.rmtree(a.dir, ignore_errors=True)
    os.makedirs(a.dir)
    subprocess.run([sys.executable, a.gen, "--n", str(a.n), "--format", "kr", "--out", k + "-kr"], check=True, capture_output=True)
    subprocess.run([sys.executable, a.gen, "--n", str(a.n), "--format", "zola", "--out", z], check=True, capture_output=True)
    os.makedirs(os.path.join(k, "content"))
    src = os.path.join(k + "-kr", "articles")
    for name in os.listdir(src):
        text = open(os.path.join(src, name)).read().replace("```rust\n", "```rust,ignore\n")
        open(os.path.join(k, "content", name), "w").write(text)
    zconf = os.path.join(z, "config.toml")
    zbase = open(zconf).read()

    def kiln_cold(search):
        open(os.path.join(k, "kiln.toml"), "w").write("" if search else "search = false\n")
        shutil.rmtree(os.path.join(k, "public"), ignore_errors=True)
        shutil.rmtree(os.path.join(k, ".kiln-cache"), ignore_errors=True)
        return timed([kiln, "build"], k)

    def zola_cold(search):
        conf = zbase
        for key in ("build_search_index", "generate_feeds"):
            conf = re.sub(rf"{key} = \w+", f"{key} = {'true' if search else 'false'}", conf)
        open(zconf, "w").write(conf)
        shutil.rmtree(os.path.join(z, "public"), ignore_errors=True)
        return timed([zola, "build"], z)

    rows = []
    for search in (False, True):
        kr, zr = [], []
        for _ in range(a.runs):
            kr.append(kiln_cold(search)); zr.append(zola_cold(search))
        kw, zw = median([r[0] for r in kr]), median([r[0] for r in zr])
        rows.append((f"cold, search {'on' if search else 'off'}",
                     kw, max(r[1] for r in kr), zw, max(r[1] for r in zr)))
        if search:
            cold_on = kw
    # Warm and one edit, search on: the site as the last cold build left it.
    open(os.path.join(k, "kiln.toml"), "w").write("")
    timed([kiln, "build"], k)
    warm, edit = [], []
    article = os.path.join(k, "content", sorted(os.listdir(os.path.join(k, "content")))[42])
    for i in range(a.runs):
        warm.append(timed([kiln, "build"], k))
        with open(article, "a") as f:
            f.write(f"\n\nEdited {i}.\n")
        edit.append(timed([kiln, "build"], k))
    print(f"kiln vs Zola, {a.n} articles, median of {a.runs} alternated runs (output in {a.dir})\n")
    print("| job | kiln | kiln peak RSS | Zola | Zola peak RSS | ratio |")
    print("|---|---|---|---|---|---|")
    for name, kw, krss, zw, zrss in rows:
        print(f"| {name} | {kw:.2f} s | {krss} MiB | {zw:.2f} s | {zrss} MiB | {kw / zw:.2f}× |")
    ww = median([r[0] for r in warm])
    print(f"| warm, nothing changed (search on) | {ww:.2f} s | {max(r[1] for r in warm)} MiB | | | {ww / cold_on:.3f}× kiln cold |")
    ew = median([r[0] for r in edit])
    print(f"| one article edited (search on) | {ew:.2f} s | {max(r[1] for r in edit)} MiB | {rows[1][3]:.2f} s (cold) | | {ew / rows[1][3]:.2f}× |")
    print("\nlast warm build said:", warm[-1][2].strip().splitlines()[-1])
    print("last edit build said:", edit[-1][2].strip().splitlines()[-1])
    serve = subprocess.run([sys.executable, os.path.join(HERE, "serve_edit.py"), kiln, k, article,
                            os.path.basename(article)[:-3], str(a.runs)], capture_output=True, text=True)
    print("\nkiln serve:", serve.stdout.strip() or serve.stderr.strip())

if __name__ == "__main__":
    main()
