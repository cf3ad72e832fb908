import { expect, test, type CDPSession, type Page } from "@playwright/test";
import { adminPassword } from "../playwright.config";
import { signInAndWait, watchProblems } from "./helpers";

const hashed = /\/pkg\/aegis\.[0-9a-f]{20}\.(js|wasm)$/;

type Fetch = { url: string; bytes: number; cached: boolean; status: number; headers: Record<string, string> };

/** Every request of the page as Chromium's network layer sees it: bytes on the wire, cache. */
async function recordNetwork(page: Page): Promise<{ cdp: CDPSession; fetches: Map<string, Fetch> }> {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("Network.enable");
  const fetches = new Map<string, Fetch>();
  cdp.on("Network.requestWillBeSent", (e) => {
    fetches.set(e.requestId, { url: e.request.url, bytes: 0, cached: false, status: 0, headers: {} });
  });
  cdp.on("Network.requestServedFromCache", (e) => {
    const f = fetches.get(e.requestId);
    if (f) f.cached = true;
  });
  cdp.on("Network.responseReceived", (e) => {
    const f = fetches.get(e.requestId);
    if (!f) return;
    f.status = e.response.status;
    f.cached ||= e.response.fromDiskCache || e.response.fromPrefetchCache === true;
    f.headers = Object.fromEntries(Object.entries(e.response.headers).map(([k, v]) => [k.toLowerCase(), String(v)]));
  });
  cdp.on("Network.loadingFinished", (e) => {
    const f = fetches.get(e.requestId);
    if (f) f.bytes = e.encodedDataLength;
  });
  return { cdp, fetches };
}

// What a signed-in browser downloads before a page is interactive: the JavaScript and WASM
// arrive compressed under content-hashed names cached as immutable, and the next page loads
// neither again. The bytes per page are printed; the size target is measured on the release
// build (BENCHMARKS.md), as this suite runs the debug build.
test("the browser build arrives compressed, hashed and cached", async ({ page }) => {
  const problems = watchProblems(page);
  // A first visit: the sign-in page, then the dashboard, from an empty browser cache.
  const { fetches } = await recordNetwork(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/", { waitUntil: "networkidle" });
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  const build = [...fetches.values()].filter((f) => hashed.test(f.url));
  expect(build.map((f) => f.url.split(".").pop()).sort()).toEqual(expect.arrayContaining(["js", "wasm"]));
  let onTheWire = 0;
  const fresh = build.filter((f) => !f.cached);
  expect(fresh.length, "the first visit downloads the build").toBeGreaterThanOrEqual(2);
  for (const f of fresh) {
    expect(f.status, f.url).toBe(200);
    expect(f.headers["cache-control"], f.url).toContain("immutable");
    expect(f.headers["vary"] ?? "", f.url).toContain("accept-encoding");
    expect(f.headers["content-encoding"] ?? "", f.url).toMatch(/^(br|gzip)$/);
    onTheWire += f.bytes;
  }
  console.log(`first visit (sign-in, dashboard): ${(onTheWire / 1024).toFixed(0)} KB of JS + WASM on the wire`);

  // A stale hash is not served as if it were the current file.
  const stale = await page.request.get("/pkg/aegis.00000000000000000000.wasm");
  expect(stale.status()).toBe(404);

  // The next page takes the build from the browser's cache.
  fetches.clear();
  await page.goto("/matrix", { waitUntil: "networkidle" });
  await expect(page.getByRole("heading", { name: "Coverage matrix" })).toBeVisible();
  const again = [...fetches.values()].filter((f) => hashed.test(f.url));
  const downloaded = again.filter((f) => !f.cached && f.status !== 304).map((f) => `${f.url} ${f.bytes} B`);
  console.log(`matrix: ${again.length} build requests, ${downloaded.length} from the network`);
  expect(downloaded, "the hashed build is not downloaded twice").toEqual([]);
  expect(problems).toEqual([]);
});
