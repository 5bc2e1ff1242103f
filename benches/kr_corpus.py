#!/usr/bin/env python3
"""A Knowledge Repo-shaped corpus: the benchmark corpus of the anchors
(`gen_corpus.py`, rust fences marked `ignore` so that nothing compiles),
each article with what real knowledge bases hold besides: a notebook's
data frame (`<div><style scoped>` with blank lines, a table), display and
inline math with a price beside it, and TypeScript, C# and SQL fences.

usage: benches/kr_corpus.py OUT [--n 10000] [--plain]

OUT gets `content/` (a kiln site). With `--plain` the three extra fences
are left out, to tell the cost of highlighting more languages from the
cost of the rest. Build it with two kilns, alternated, as benches/README.md
says (`/usr/bin/time -f "%e %M" kiln build`).
"""
import argparse, os, shutil, subprocess, sys, tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
GEN = os.path.join(HERE, "..", "..", "shared", "anchors", "gen_corpus.py")

NOTEBOOK = '''

## Notebook output

<div>
<style scoped>
    .dataframe tbody tr th:only-of-type {
        vertical-align: middle;
    }

    .dataframe thead th {
        text-align: right;
    }
</style>
<table border="1" class="dataframe">
  <thead><tr><th></th><th>users</th></tr></thead>
  <tbody><tr><th>0</th><td>42</td></tr></tbody>
</table>
</div>

The model is $$\\sigma(x)=\\frac{1}{1+e^{-x}}$$ and inline $e^{i\\pi}+1=0$, at $5 a month.
'''

FENCES = '''
```typescript
interface User { id: number; name: string }
const users: User[] = [{ id: 1, name: "a" }];
console.log(users.map(u => u.name).join(","));
```

```csharp
public class Program { public static void Main() { System.Console.WriteLine("hi"); } }
```

```sql
SELECT user_id, count(*) AS n FROM events WHERE day > '2024-01-01' GROUP BY 1 ORDER BY n DESC;
```
'''

def main():
    p = argparse.ArgumentParser()
    p.add_argument("out")
    p.add_argument("--n", type=int, default=10000)
    p.add_argument("--plain", action="store_true")
    p.add_argument("--gen", default=GEN)
    a = p.parse_args()
    content = os.path.join(a.out, "content")
    shutil.rmtree(a.out, ignore_errors=True)
    os.makedirs(content)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = os.path.join(tmp, "kr")  # the generator wants a new folder
        subprocess.run([sys.executable, a.gen, "--n", str(a.n), "--format", "kr", "--out", tmp],
                       check=True, capture_output=True)
        src = os.path.join(tmp, "articles")
        extra = NOTEBOOK + ("" if a.plain else FENCES)
        for name in os.listdir(src):
            text = open(os.path.join(src, name)).read().replace("```rust\n", "```rust,ignore\n")
            open(os.path.join(content, name), "w").write(text + extra)

if __name__ == "__main__":
    main()
