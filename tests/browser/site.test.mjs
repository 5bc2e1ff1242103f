// The published site in a real browser: Debian's Chromium driven by
// playwright-core, axe-core for accessibility, and the Nu HTML Checker.
//
// Run after `cargo run --release -- build`:
//   npm ci --prefix tests/browser && node --test tests/browser/
// KILN_PUBLIC (default: public/ of the repo) is the site to check;
// screenshots go to KILN_ARTIFACTS (default: target/browser-artifacts/).
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { start, axeViolations, artifacts, repo, require } from "./lib.mjs";

const publicDir = path.resolve(process.env.KILN_PUBLIC ?? path.join(repo, "public"));
const ARTICLE = "/socket-shutdown-vs-close/";

let site, browser, open;

before(async () => {
  site = await start(publicDir);
  ({ browser, open } = site);
});

after(async () => {
  await site?.stop();
});

/** Scrolls each list thumbnail into view (they load lazily) and waits
 * until it has loaded. */
async function loadThumbnails(page) {
  for (const thumb of await page.locator(".card img.thumb").all()) {
    await thumb.scrollIntoViewIfNeeded();
    await thumb.evaluate((img) => img.complete && img.naturalWidth > 0
      || new Promise((resolve, reject) => { img.onload = resolve; img.onerror = reject; }));
  }
}

test("the article page loads with no console error and no failed or external request", async () => {
  const { page, context, problems } = await open(ARTICLE);
  await page.screenshot({ path: path.join(artifacts, "article-light.png"), fullPage: true });
  assert.deepEqual(problems, []);
  await context.close();
});

test("TOC links scroll to their headings", async () => {
  const { page, context } = await open(ARTICLE);
  // At 1280 px the TOC stands in the side column (the inline `[TOC]` is
  // not shown twice).
  assert.equal(await page.locator(".article-body nav.toc").isVisible(), false);
  const hrefs = await page.$$eval(".sidebar nav.toc a", (as) => as.map((a) => a.getAttribute("href")));
  assert.ok(hrefs.length >= 4, `TOC links: ${hrefs}`);
  for (const href of hrefs) {
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.click(`.sidebar nav.toc a[href="${href}"]`);
    // The heading is scrolled into view: at the top, or as high as the end
    // of the page lets it go.
    await page.waitForFunction((id) => {
      const top = document.getElementById(id).getBoundingClientRect().top;
      const atEnd = window.scrollY + window.innerHeight >= document.documentElement.scrollHeight - 2;
      return window.scrollY > 0 && top >= -2 && (top < 40 || (atEnd && top < window.innerHeight));
    }, href.slice(1), { timeout: 5000 });
    assert.equal(new URL(page.url()).hash, href);
  }
  await context.close();
});

test("the author's Contents label moves with the TOC: no orphan at 1280 px", async () => {
  const { page, context } = await open(ARTICLE, { viewport: { width: 1280, height: 900 } });
  const orphans = await page.$$eval(".article-body p", (ps) => ps
    .filter((p) => /^\s*(table of )?contents:?\s*$/i.test(p.textContent) && p.getClientRects().length > 0)
    .map((p) => p.outerHTML));
  assert.deepEqual(orphans, []);
  // The label went into the TOC, which the side column shows under its own
  // heading.
  assert.equal(await page.locator(".article-body nav.toc .toc-label").innerText(), "Contents");
  await context.close();
});

test("the side TOC stays in view and follows the scroll", async () => {
  const { page, context } = await open(ARTICLE, { viewport: { width: 1280, height: 800 } });
  const sidebar = page.locator(".sidebar");
  const current = () => page.$eval(".sidebar a[aria-current]", (a) => a.getAttribute("href"));
  const first = await current();
  await page.evaluate(() => document.getElementById("the-same-in-rust").scrollIntoView());
  await page.waitForFunction(() => document.querySelector(".sidebar a[aria-current]")?.getAttribute("href") === "#the-same-in-rust");
  assert.notEqual(first, "#the-same-in-rust");
  const box = await sidebar.boundingBox();
  assert.ok(box.y >= 0 && box.y < 800, `the sidebar scrolled away: ${box.y}`);
  await context.close();
});

test("snippet output panels are visible and hold the real output", async () => {
  const { page, context } = await open(ARTICLE);
  const panels = page.locator(".snippet-output samp");
  assert.equal(await panels.count(), 7);
  for (let i = 0; i < 7; i++) await assert.doesNotReject(panels.nth(i).waitFor({ state: "visible" }));
  const texts = await panels.allInnerTexts();
  const golden = async (name) => (await readFile(path.join(repo, `snippets/${name}.stdout`), "utf8")).trim();
  // The article's own Python samples, run, then the Rust ones.
  assert.equal(texts[0].trim(), await golden("shutdown_half_close"));
  assert.equal(texts[1].trim(), await golden("close_frees"));
  assert.equal(texts[2].trim(), await golden("shutdown_sends_eof"));
  assert.match(texts[3], /after drop: {2}descriptor open = false/);
  assert.match(texts[4], /error\[E0382\]: borrow of moved value/);
  assert.match(texts[5], /peer sees EOF/);
  assert.match(texts[6], /peer read failed: ConnectionReset/);
  // Each run's panel is captioned as output, rustc's as what it said.
  const labels = await page.locator(".snippet-output-label").allInnerTexts();
  assert.deepEqual(labels, ["Output", "Output", "Output", "Output", "rustc said", "Output", "Output"]);
  // Each panel says what produced it; the last used the socket2 crate.
  const provenance = await page.locator(".snippet-status .provenance").allInnerTexts();
  assert.equal(provenance.length, 7);
  for (const i of [0, 1]) assert.match(provenance[i], /^Python 3\.\d+\.\d+ · on .* UTC · sandboxed$/);
  assert.match(provenance[6], /^rustc \d+\.\d+\.\d+ · edition 20\d\d · socket2 \d+\.\d+\.\d+ · on .* UTC · sandboxed$/);
  await context.close();
});

test("the search box finds the seed article from a word of its body", async () => {
  const { page, context, problems } = await open("/");
  await page.fill("#site-search-input", "descriptor");
  await page.press("#site-search-input", "Enter");
  await page.waitForURL(/\/search\/(index\.html)?\?q=descriptor/);
  const result = page.locator(".pagefind-ui__result-link").first();
  await result.waitFor({ timeout: 10000 });
  assert.equal(await result.getAttribute("href"), ARTICLE);
  // The header's box shows the query; results are in the site's own type.
  assert.equal(await page.inputValue("#site-search-input"), "descriptor");
  const fonts = await page.evaluate(() => [
    getComputedStyle(document.body).fontFamily,
    getComputedStyle(document.querySelector(".pagefind-ui__result-title")).fontFamily,
  ]);
  assert.equal(fonts[1], fonts[0]);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the search page opened from disk says it needs a server", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors = [];
  page.on("pageerror", (e) => errors.push(e.message));
  await page.goto(`file://${path.join(publicDir, "search", "index.html")}?q=socket`);
  const note = page.locator("#search-needs-server");
  await note.waitFor({ state: "visible", timeout: 3000 });
  assert.match(await note.innerText(), /kiln serve/);
  assert.deepEqual(errors, []);
  await context.close();
});

test("tag links lead to a tag page that lists the article", async () => {
  const { page, context } = await open(ARTICLE);
  await page.click(".article-header .tags a >> text=python");
  await page.waitForURL(/\/tags\/python\/(index\.html)?$/);
  // Links are relative to the page: resolved, one is the article's.
  const listed = await page.$$eval(".article-list h2 a", (as) => as.map((a) => new URL(a.href).pathname));
  assert.ok(listed.includes(`${ARTICLE}index.html`), `listed: ${listed}`);
  await context.close();
});

test("dark mode changes the colours", async () => {
  const colours = async (scheme) => {
    const { page, context } = await open(ARTICLE, { colorScheme: scheme });
    const c = await page.evaluate(() => {
      const s = getComputedStyle(document.body);
      return [s.backgroundColor, s.color, getComputedStyle(document.querySelector("pre.code")).backgroundColor];
    });
    if (scheme === "dark") await page.screenshot({ path: path.join(artifacts, "article-dark.png"), fullPage: true });
    await context.close();
    return c;
  };
  const light = await colours("light");
  const dark = await colours("dark");
  for (let i = 0; i < light.length; i++) assert.notEqual(light[i], dark[i]);
});

test("nothing overflows horizontally at 375 pixels", async () => {
  for (const url of ["/", ARTICLE, "/tags/", "/tags/python/", "/search/?q=socket"]) {
    const { page, context } = await open(url, { viewport: { width: 375, height: 812 } });
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    assert.ok(overflow <= 0, `${url} overflows by ${overflow}px`);
    // The header is one block: the search box spans the width under the
    // site's name and links.
    const [title, search] = await Promise.all([".site-title", ".site-search input"].map((s) => page.locator(s).boundingBox()));
    assert.ok(search.y > title.y && Math.abs(search.x - title.x) < 2 && search.width > 300, `${url}: header ${JSON.stringify({ title, search })}`);
    if (url === ARTICLE) await page.screenshot({ path: path.join(artifacts, "article-mobile.png"), fullPage: true });
    await context.close();
  }
});

test("axe finds no accessibility violation", async () => {
  for (const url of ["/", "/tags/python/", ARTICLE, "/guide/writing-articles/", "/guide/rust-snippets/", "/guide/python-snippets/"]) {
    for (const colorScheme of ["light", "dark"]) {
      const { page, context } = await open(url, { colorScheme });
      assert.deepEqual(await axeViolations(page), [], `${url} (${colorScheme})`);
      await context.close();
    }
  }
});

test("the Nu HTML Checker finds no error in any page", async () => {
  const jar = require.resolve("vnu-jar/build/dist/vnu.jar");
  const run = promisify(execFile);
  const { stderr } = await run("java", ["-jar", jar, "--errors-only", "--skip-non-html", "--format", "json", publicDir],
    { maxBuffer: 64 * 1024 * 1024 }).catch((e) => ({ stderr: e.stderr ?? String(e) }));
  const messages = JSON.parse(stderr).messages.map((m) => `${m.url}:${m.lastLine}: ${m.message}`);
  assert.deepEqual(messages, []);
});

test("long code lines scroll, with a shadow at the edge that says so", async () => {
  const { page, context } = await open(ARTICLE, { viewport: { width: 375, height: 812 } });
  const marked = await page.$$eval("pre", (pres) => pres.map((p) => [p.scrollWidth > p.clientWidth + 1, p.classList.contains("overflows")]));
  assert.ok(marked.some(([wide]) => wide), "some block is wider than 375 px");
  for (const [wide, shadow] of marked) assert.equal(shadow, wide);
  await context.close();
});

test("list thumbnails keep their image's proportions at 1280 and 375 px", async () => {
  for (const width of [1280, 375]) {
    const { page, context } = await open("/", { viewport: { width, height: 800 } });
    await loadThumbnails(page);
    const thumbs = await page.$$eval(".card img.thumb", (imgs) =>
      imgs.map((img) => {
        const box = img.getBoundingClientRect();
        return { drawn: box.width / box.height, natural: img.naturalWidth / img.naturalHeight };
      }));
    assert.ok(thumbs.length >= 1, `no thumbnail at ${width} px`);
    for (const { drawn, natural } of thumbs) {
      assert.ok(Math.abs(drawn / natural - 1) < 0.05, `${width} px: drawn ${drawn}, natural ${natural}`);
    }
    await context.close();
  }
});

test("a printed article shows no header, search or footer", async () => {
  const { page, context } = await open(ARTICLE);
  await page.emulateMedia({ media: "print" });
  for (const selector of [".site-header", ".site-search", ".site-footer"]) {
    assert.equal(await page.locator(selector).isVisible(), false, `${selector} is printed`);
  }
  assert.equal(await page.locator("article h1").isVisible(), true);
  await context.close();
});

test("a copy button puts exactly the code shown on the clipboard", async () => {
  const { page, context, problems } = await open(ARTICLE, { permissions: ["clipboard-read", "clipboard-write"] });
  assert.ok((await page.locator("button.copy").count()) >= 6, "every code block and snippet source has a copy button");
  // A plain code block (its button in its own bar), then a snippet's
  // source (its button in the snippet's title bar).
  for (const block of [page.locator(".article-body > .code-wrap").first(), page.locator("figure.snippet").first()]) {
    const shown = await block.locator("pre.code code").evaluate((code) => code.textContent);
    await block.locator("button.copy").click();
    await page.waitForFunction((b) => b.textContent === "Copied", await block.locator("button.copy").elementHandle());
    assert.equal(await page.evaluate(() => navigator.clipboard.readText()), shown);
  }
  assert.deepEqual(problems, []);
  await context.close();
});

test("code fits at 1280 px, and no Copy button covers code", async () => {
  for (const width of [1280, 375]) {
    const { page, context, problems } = await open(ARTICLE, { viewport: { width, height: 900 } });
    const covering = await page.evaluate(() => [...document.querySelectorAll("button.copy")].filter((button) => {
      const panel = button.closest(".code-wrap") ?? button.closest("figure.snippet");
      const code = panel.querySelector("pre.code").getBoundingClientRect();
      const b = button.getBoundingClientRect();
      return b.left < code.right && b.right > code.left && b.top < code.bottom && b.bottom > code.top;
    }).length);
    assert.equal(covering, 0, `Copy buttons over code at ${width} px`);
    if (width === 1280) {
      // The seed's code is rustfmt's 100 columns at most: none scrolls.
      const scrolling = await page.evaluate(() => [...document.querySelectorAll(".article-body pre.code")]
        .filter((pre) => pre.scrollWidth > pre.clientWidth + 1)
        .map((pre) => Math.max(...pre.textContent.split("\n").map((line) => line.length))));
      assert.deepEqual(scrolling, [], "code panels that scroll at 1280 px (their longest lines)");
      // The text keeps its measure.
      const text = await page.locator(".article-body > p").first().boundingBox();
      assert.ok(text.width <= 46 * 16 + 1, `body text is ${text.width} px wide`);
    }
    assert.deepEqual(problems, []);
    await context.close();
  }
});

test("the site opened from disk works: styles, images, links to an article and a tag page", async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  const failed = [];
  page.on("requestfailed", (r) => failed.push(r.url()));
  await page.goto(`file://${path.join(publicDir, "index.html")}`);
  // The stylesheet applies (its font stack is not the browser's default).
  assert.match(await page.evaluate(() => getComputedStyle(document.body).fontFamily), /system-ui/);
  // The list thumbnail loaded.
  await loadThumbnails(page);
  assert.ok(await page.$eval(".card img.thumb", (img) => img.complete && img.naturalWidth > 0));
  await page.click(`.article-list h2 a[href$="${ARTICLE.slice(1)}index.html"]`);
  await page.waitForURL(/socket-shutdown-vs-close\/index\.html$/);
  assert.ok(await page.$eval("article img.thumb", (img) => img.complete && img.naturalWidth > 0));
  await page.click(".article-header .tags a >> text=python");
  await page.waitForURL(/tags\/python\/index\.html$/);
  assert.ok((await page.locator(".article-list h2 a").count()) >= 1);
  assert.deepEqual(failed, []);
  await context.close();
});
