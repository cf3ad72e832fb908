import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");

// The same bundle one ATT&CK release later: T1059 was renamed, so it needs a review.
function nextRelease(): string {
  const bundle = JSON.parse(fs.readFileSync(fixture, "utf8"));
  for (const object of bundle.objects) {
    if (object.id === "attack-pattern--t1059") object.name = "Command Interpreters";
  }
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "aegis-bundle-")), "attack-next.json");
  fs.writeFileSync(file, JSON.stringify(bundle));
  return file;
}

test.describe.configure({ mode: "serial" });

test("an admin imports ATT&CK, explores the matrix and reviews a changed technique", async ({ page }) => {
  const problems = watchProblems(page);

  await signInAndWait(page, "admin", adminPassword);

  // Before any import the matrix says how to fill it.
  await page.getByRole("link", { name: "Coverage matrix" }).click();
  await expect(page.locator("#matrix-empty")).toBeVisible();

  await page.getByRole("link", { name: "System" }).click();
  await page.waitForLoadState("networkidle");
  await page.locator("#import-file").setInputFiles(fixture);
  await page.locator("#import-submit").click();
  await expect(page.locator("#import-result")).toContainText("7 techniques added");
  await expect(page.locator('#sync-runs tr[data-status="success"]')).toHaveCount(1);
  await expect(page.locator("#sync-runs")).toContainText("upload:attack-mini.json");

  await page.getByRole("link", { name: "Coverage matrix" }).click();
  await page.waitForLoadState("networkidle");
  const columns = page.locator("#matrix > section");
  await expect(columns).toHaveCount(3);
  await expect(columns.nth(0)).toHaveAttribute("data-tactic", "reconnaissance");
  await expect(page.locator('#matrix [data-tactic="execution"] .tactic-count')).toHaveText("4 techniques");
  await expect(page.locator('[data-technique="T1059"]')).toHaveAttribute("data-status", "not_covered");

  // Sub-techniques open in place.
  const powershell = page.locator('[data-technique="T1059.001"]');
  await expect(powershell).toBeHidden();
  await page.locator('details.subtechniques summary span[aria-label="2 sub-techniques"]').click();
  await expect(powershell).toBeVisible();

  await page.locator("#filter-platform").selectOption("PRE");
  await page.locator("#matrix-filter-submit").click();
  await expect(page).toHaveURL(/platform=PRE/);
  await expect(page.locator("#matrix .technique-cell")).toHaveCount(1);
  await expect(page.locator('[data-technique="T1595"]')).toBeVisible();

  await page.goto("/matrix", { waitUntil: "networkidle" });
  await page.locator("#filter-actor").selectOption("G0006");
  await page.locator("#matrix-filter-submit").click();
  await expect(page).toHaveURL(/actor=G0006/);
  await expect(page.locator('[data-technique="T1053"]').first()).toBeVisible();
  await expect(page.locator('[data-technique="T1595"]')).toHaveCount(0);

  // A second release changes T1059: it is flagged, and the admin marks it reviewed.
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await page.locator("#import-file").setInputFiles(nextRelease());
  await page.locator("#import-submit").click();
  await expect(page.locator("#import-result")).toContainText("1 techniques flagged for review");

  await page.goto("/techniques/T1059", { waitUntil: "networkidle" });
  await expect(page.locator("#technique-name")).toHaveText("Command Interpreters");
  await expect(page.locator("#review-banner")).toBeVisible();
  await expect(page.locator("#technique-actors")).toContainText("FIN7");
  await page.locator("#mark-reviewed").click();
  await expect(page.locator("#review-banner")).toHaveCount(0);
  await expect(page.locator("#reviewed-note")).toBeVisible();

  // The actor page links back to the matrix with the actor highlighted.
  await page.goto("/threat-actors/G0006", { waitUntil: "networkidle" });
  await expect(page.locator("#actor-techniques li")).toHaveCount(2);
  await page.locator("#actor-on-matrix").click();
  await expect(page).toHaveURL(/\/matrix\?actor=G0006/);
  await expect(page.locator("#filter-actor")).toHaveValue("G0006");

  expect(problems).toEqual([]);
});
