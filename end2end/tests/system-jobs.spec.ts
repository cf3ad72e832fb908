import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as http from "node:http";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword, collectionId, mitrePort } from "../playwright.config";

// Runs after the suites that imported the fixture. MITRE here serves a newer release in which
// T1059 was renamed: a sync updates it and flags it for review.
const bundle = JSON.parse(
  fs.readFileSync(path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json"), "utf8"),
);
for (const object of bundle.objects) {
  if (object.id === "attack-pattern--t1059") object.name = "Command-Line Interpreters";
}
let mitre: http.Server;
const taxiiPages: string[] = [];

test.beforeAll(async () => {
  mitre = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", `http://127.0.0.1:${mitrePort}`);
    if (url.pathname === `/taxii/api/v21/collections/${collectionId}/objects/`) {
      if (!(req.headers.accept ?? "").includes("application/taxii+json")) {
        res.writeHead(406).end();
        return;
      }
      taxiiPages.push(url.search);
      const limit = Number(url.searchParams.get("limit") ?? 100);
      const start = Number((url.searchParams.get("next") ?? "offset-0").replace("offset-", ""));
      const end = Math.min(start + limit, bundle.objects.length);
      const more = end < bundle.objects.length;
      res.writeHead(200, { "content-type": "application/taxii+json;version=2.1", connection: "close" });
      res.end(JSON.stringify({ more, next: more ? `offset-${end}` : undefined, objects: bundle.objects.slice(start, end) }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((resolve) => mitre.listen(mitrePort, "127.0.0.1", resolve));
});

test.afterAll(async () => {
  // Aegis's HTTP client keeps idle connections open; close() alone would wait for them.
  mitre.closeAllConnections();
  await new Promise((resolve) => mitre.close(resolve));
});

test("an admin syncs ATT&CK from the System panel, watches it live and hears about the change", async ({ page }) => {
  const problems = watchProblems(page);

  await signInAndWait(page, "admin", adminPassword);

  // Start from a clean bell: earlier imports already told the admin about changes.
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await page.locator("#notification-bell").click();
  await expect(page.locator("#notification-panel")).toBeVisible();
  await page.locator("#notifications-read-all").click();
  await expect(page.locator("#notification-count")).toBeHidden();
  await page.locator("#notification-bell").click();

  // Every scheduled job is listed with its schedule and next run.
  const rows = page.locator("#schedules tbody tr");
  await expect(rows).toHaveCount(14);
  for (const job of ["atomics_import", "caldera_import", "lolbas_import", "gtfobins_import", "sigma_import", "elastic_rules_import", "d3fend_import", "compliance_import"]) {
    await expect(page.locator(`#schedules tr[data-job="${job}"]`)).toContainText("on demand");
  }
  await expect(page.locator('#schedules tr[data-job="mitre_sync"]')).toContainText("0 0 3 * * *");
  await expect(page.locator('#schedules tr[data-job="weekly_snapshot"]')).toContainText("0 0 0 * * Sun");
  await expect(page.locator('#schedules tr[data-job="intel_scan"]')).toContainText("0 0 6 * * Mon");
  await expect(page.locator('#schedules tr[data-job="scoring_recompute"]')).toContainText("0 45 2 * * *");
  await expect(page.locator('#schedules tr[data-job="mitre_sync"]')).toContainText("UTC");

  await page.locator("#sync-now").click();
  await expect(page.locator("#job-progress")).toBeVisible();
  await expect(page.locator('#job-progress[data-status="succeeded"]')).toBeVisible({ timeout: 30_000 });
  await expect(page.locator("#job-outcome")).toContainText("Synced from taxii:");
  await expect(page.locator("#job-outcome")).toContainText("1 updated");
  expect(taxiiPages.length).toBeGreaterThan(1);
  expect(taxiiPages[0]).toContain("limit=5");
  await expect(page.locator('#schedules tr[data-job="mitre_sync"]')).toContainText("succeeded");
  await expect(page.locator("#sync-runs tbody tr").first()).toContainText("taxii:");

  // Any other job runs on demand too.
  await page.locator('#schedules button[data-job="weekly_snapshot"]').click();
  await expect(page.locator('#job-progress[data-status="succeeded"]')).toContainText("weekly_snapshot", { timeout: 30_000 });
  await expect(page.locator('#schedules tr[data-job="weekly_snapshot"]')).toContainText("succeeded");

  // The sync flagged T1059: the bell says so and leads to the techniques to review.
  await page.reload({ waitUntil: "networkidle" });
  await expect(page.locator("#notification-count")).toHaveText("1");
  await page.locator("#notification-bell").click();
  const note = page.locator("#notification-panel .notification").first();
  await expect(note).toContainText("ATT&CK update: 1 technique to review");
  await expect(note).toContainText("T1059 Command-Line Interpreters: name");
  await note.locator("a").click();
  await expect(page).toHaveURL(/\/matrix\?review_required=true/);
  await expect(page.locator("#notification-count")).toBeHidden();
  await expect(page.locator('[data-technique="T1059"]').first()).toBeVisible();

  expect(problems).toEqual([]);
});
