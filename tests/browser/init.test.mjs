// `kiln init`'s sample site, as a new user first sees it: init and build in
// a temporary folder with the kiln binary (KILN_BIN, default
// target/release/kiln), then read in Chromium. Screenshots of its index and
// its article (light, dark, mobile) go to KILN_ARTIFACTS.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { promisify } from "node:util";
import { tmpdir } from "node:os";
import path from "node:path";
import { start, axeViolations, artifacts, repo } from "./lib.mjs";

const run = promisify(execFile);
const kiln = path.resolve(process.env.KILN_BIN ?? path.join(repo, "target/release/kiln"));
const ARTICLE = "/welcome/";

let folder, site;

before(async () => {
  folder = await mkdtemp(path.join(tmpdir(), "kiln-init-"));
  const root = path.join(folder, "my-kb");
  await run(kiln, ["init", root, "--title", "My knowledge base"]);
  await run(kiln, ["build", "--root", root]);
  site = await start(path.join(root, "public"));
});

after(async () => {
  await site?.stop();
  if (folder) await rm(folder, { recursive: true, force: true });
});

test("the sample site's index lists its article, with its snippet passing", async () => {
  const { page, context, problems } = await site.open("/");
  await page.screenshot({ path: path.join(artifacts, "init-index.png"), fullPage: true });
  assert.equal(await page.locator(".site-header").getByText("My knowledge base").count() >= 1, true);
  const cards = await page.locator(".article-list h2 a").allInnerTexts();
  assert.deepEqual(cards, ["Welcome"]);
  assert.match(await page.locator(".card").first().innerText(), /1 snippet, passes/);
  assert.deepEqual(problems, []);
  await context.close();
});

test("the sample article shows what its snippet printed, in light, dark and on a phone", async () => {
  for (const [name, options] of [
    ["init-article-light.png", { viewport: { width: 1280, height: 900 } }],
    ["init-article-dark.png", { viewport: { width: 1280, height: 900 }, colorScheme: "dark" }],
    ["init-article-mobile.png", { viewport: { width: 375, height: 800 } }],
  ]) {
    const { page, context, problems } = await site.open(ARTICLE, options);
    await page.screenshot({ path: path.join(artifacts, name), fullPage: true });
    const panel = page.locator("figure.snippet").first();
    assert.match(await panel.locator("figcaption").innerText(), /hello\.rs[\s\S]*✓ passes/);
    assert.equal((await panel.locator(".snippet-output").innerText()).includes("This snippet was compiled, run, shown."), true);
    assert.deepEqual(await axeViolations(page), [], name);
    assert.deepEqual(problems, []);
    await context.close();
  }
});
