// Runs Pagefind's own search code (public/pagefind/pagefind.js and its WASM)
// in Node against a built site, reading the index files from disk.
// Usage: node search.mjs <public dir> <query>; prints the result URLs as JSON.
// A large site's further bundles (pagefind/shard-N/) are merged, as the
// search page merges them; with KILN_SEARCH_STATS=1 it prints to stderr how
// long the query took and how many files and bytes it read.
import { readFile, readdir } from "node:fs/promises";
import { pathToFileURL, fileURLToPath } from "node:url";
import path from "node:path";

const [publicDir, query] = process.argv.slice(2);
const bundle = path.resolve(publicDir, "pagefind");

// pagefind.js fetches its index relative to its own URL: serve file:// URLs
// from disk.
const stats = { files: 0, bytes: 0 };
globalThis.fetch = async (url) => {
  const target = typeof url === "string" ? url : url.url;
  const file = target.startsWith("file:") ? fileURLToPath(target) : path.join(bundle, target);
  try {
    const bytes = await readFile(file);
    stats.files += 1;
    stats.bytes += bytes.length;
    return new Response(bytes, { status: 200 });
  } catch {
    return new Response("", { status: 404 });
  }
};

const pagefind = await import(pathToFileURL(path.join(bundle, "pagefind.js")).href);
await pagefind.options({ basePath: pathToFileURL(bundle).href + "/", baseUrl: "/" });
const shards = (await readdir(bundle)).filter((name) => /^shard-\d+$/.test(name)).sort();
for (const shard of shards) {
  await pagefind.mergeIndex(pathToFileURL(path.join(bundle, shard)).href + "/", { baseUrl: "/" });
}
const started = performance.now();
const before = { ...stats };
const search = await pagefind.search(query);
// What a reader sees first: the search and the first five results (the
// UI loads more only when asked).
await Promise.all(search.results.slice(0, 5).map((r) => r.data()));
if (process.env.KILN_SEARCH_STATS) {
  const ms = (performance.now() - started).toFixed(1);
  const files = stats.files - before.files;
  const bytes = stats.bytes - before.bytes;
  console.error(
    `bundles ${shards.length + 1}: ${search.results.length} results, first five in ${ms} ms, ` +
      `${files} files and ${bytes} bytes read (loading the bundles before: ${before.files} files, ${before.bytes} bytes)`,
  );
}
const results = await Promise.all(search.results.map((r) => r.data()));
console.log(JSON.stringify(results.map((r) => ({ url: r.url, title: r.meta.title }))));
