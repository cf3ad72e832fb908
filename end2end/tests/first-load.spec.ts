import { expect, test, type Response } from "@playwright/test";
import { adminPassword } from "../playwright.config";
import { signInAndWait, watchProblems } from "./helpers";

// What a signed-in browser downloads before a page is interactive: the JavaScript and WASM
// arrive compressed under content-hashed names that are cached as immutable, and a second
// page loads neither again. The byte counts per page are printed (the size target is measured
// on the release build: see BENCHMARKS.md; this suite runs the debug build).
test("the browser build arrives compressed, hashed and cached", async ({ page }) => {
  const problems = watchProblems(page);
  const assets: Response[] = [];
  page.on("response", (response) => {
    if (/\/pkg\/[^/]+\.(js|wasm)(\?|$)/.test(response.url())) assets.push(response);
  });
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/", { waitUntil: "networkidle" });
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  const main = assets.filter((r) => /\/pkg\/aegis\.[0-9a-f]{20}\.(js|wasm)$/.test(r.url()));
  expect(main.map((r) => r.url().split(".").pop()).sort(), "hashed js and wasm").toEqual(
    expect.arrayContaining(["js", "wasm"]),
  );
  let transferred = 0;
  for (const response of main) {
    const headers = await response.allHeaders();
    expect(response.status(), response.url()).toBe(200);
    expect(headers["cache-control"], response.url()).toContain("immutable");
    expect(headers["content-encoding"] ?? "", response.url()).toMatch(/^(br|gzip)$/);
    transferred += (await response.request().sizes()).responseBodySize;
  }
  console.log(`first load of the dashboard: ${(transferred / 1024).toFixed(0)} KB of JS + WASM`);

  // A stale hash is not served as if it were the current file.
  const stale = await page.request.get("/pkg/aegis.00000000000000000000.wasm");
  expect(stale.status()).toBe(404);

  // The next page needs nothing new from the network for the build.
  const before = assets.length;
  await page.goto("/matrix", { waitUntil: "networkidle" });
  await expect(page.getByRole("heading", { name: "Coverage matrix" })).toBeVisible();
  const refetched = [];
  for (const response of assets.slice(before)) {
    if (!/\/pkg\/aegis\.[0-9a-f]{20}\./.test(response.url())) continue;
    const fromCache = response.status() === 304 || (await response.request().sizes()).responseBodySize === 0;
    if (!fromCache) refetched.push(response.url());
  }
  expect(refetched, "the hashed build is not downloaded twice").toEqual([]);
  expect(problems).toEqual([]);
});
