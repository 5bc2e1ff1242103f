#!/usr/bin/env python3
"""Times `kiln serve`'s edit -> reloaded page on a site: starts the server,
waits for its first build, then appends a marker to one article N times
and polls the article's page until the marker is served. Prints each
time, the median, and how long the search index took to catch up.

usage: serve_edit.py KILN SITE_ROOT ARTICLE_FILE SLUG [EDITS]
"""
import json, os, statistics, subprocess, sys, time, urllib.request

kiln, root, article, slug = sys.argv[1:5]
edits = int(sys.argv[5]) if len(sys.argv) > 5 else 3
port = 18000 + os.getpid() % 1000
server = subprocess.Popen([kiln, "serve", "--root", root, "--port", str(port)],
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

def get(path):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
            return r.read().decode()
    except Exception:
        return ""

def status():
    text = get("/__kiln/status")
    return json.loads(text) if text else {}

try:
    while status().get("builds", 0) < 1:
        time.sleep(0.1)
    while status().get("search") != "search index ready":
        time.sleep(0.2)
    times, search = [], []
    for i in range(edits):
        marker = f"kiln-serve-edit-{os.getpid()}-{i}"
        jobs = status().get("search_jobs", 0)
        started = time.monotonic()
        with open(article, "a") as f:
            f.write(f"\n\n{marker}\n")
        while marker not in get(f"/{slug}/"):
            time.sleep(0.02)
        times.append(time.monotonic() - started)
        while True:
            now = status()
            if now.get("search_jobs", 0) > jobs and now.get("search") == "search index ready":
                break
            time.sleep(0.05)
        search.append(time.monotonic() - started)
        time.sleep(1)
    print("edit -> page served (s):", " ".join(f"{t:.2f}" for t in times),
          f"median {statistics.median(times):.2f}")
    print("edit -> search index ready (s):", " ".join(f"{t:.2f}" for t in search),
          f"median {statistics.median(search):.2f}")
finally:
    server.terminate()
    server.wait()
