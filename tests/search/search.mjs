// Runs Pagefind's own search code (public/pagefind/pagefind.js and its WASM)
// in Node against a built site, reading the index files from disk.
// Usage: node search.mjs <public dir> <query>; prints the result URLs as JSON.
import { readFile } from "node:fs/promises";
import { pathToFileURL, fileURLToPath } from "node:url";
import path from "node:path";

const [publicDir, query] = process.argv.slice(2);
const bundle = path.resolve(publicDir, "pagefind");

// pagefind.js fetches its index relative to its own URL: serve file:// URLs
// from disk.
globalThis.fetch = async (url) => {
  const target = typeof url === "string" ? url : url.url;
  const file = target.startsWith("file:") ? fileURLToPath(target) : path.join(bundle, target);
  try {
    const bytes = await readFile(file);
    return new Response(bytes, { status: 200 });
  } catch {
    return new Response("", { status: 404 });
  }
};

const pagefind = await import(pathToFileURL(path.join(bundle, "pagefind.js")).href);
await pagefind.options({ basePath: pathToFileURL(bundle).href + "/", baseUrl: "/" });
const search = await pagefind.search(query);
const results = await Promise.all(search.results.map((r) => r.data()));
console.log(JSON.stringify(results.map((r) => ({ url: r.url, title: r.meta.title }))));
