// Runs after knowledge-base.spec.ts (file order), which needs an empty knowledge base first.
import { expect, test, type APIRequestContext } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");
const password = "dashboard-e2e-password";
/** A platform no other suite uses, so the tests seeded here can be counted exactly. */
const platform = "e2e-dash";

test.describe.configure({ mode: "serial" });

async function token(request: APIRequestContext, username: string, pass: string): Promise<string> {
  const login = await request.post("/api/v1/auth/login", { data: { username, password: pass } });
  expect(login.status()).toBe(200);
  return (await login.json()).access_token as string;
}

/** Three tests on our platform: one draft, one executing, one waiting for the blue team. */
test.beforeAll(async ({ request }) => {
  const admin = { Authorization: `Bearer ${await token(request, "admin", adminPassword)}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers: admin,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);
  for (const role of ["red_lead", "viewer"]) {
    const created = await request.post("/api/v1/users", {
      headers: admin,
      data: { username: `dash_${role}`, password, role, display_name: `Dash ${role}` },
    });
    expect([201, 409]).toContain(created.status());
  }
  const lead = { Authorization: `Bearer ${await token(request, "dash_red_lead", password)}` };
  const ids: string[] = [];
  for (const title of ["Dash draft", "Dash executing", "Dash submitted"]) {
    const created = await request.post("/api/v1/tests", {
      headers: lead,
      data: { title, technique_id: "T1059", platform },
    });
    expect(created.status()).toBe(201);
    ids.push((await created.json()).id);
  }
  for (const [id, actions] of [
    [ids[1], ["start-execution"]],
    [ids[2], ["start-execution", "submit-red"]],
  ] as const) {
    for (const action of actions) {
      expect((await request.post(`/api/v1/tests/${id}/${action}`, { headers: lead })).status()).toBe(200);
    }
  }
});

test("the dashboard shows the seeded numbers, and the API's", async ({ page }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "dash_viewer", password);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();

  // Whole-database figures: whatever other suites did, the page says what the API says.
  const summary = await (await page.request.get("/api/v1/metrics/summary")).json();
  await expect(page.locator("#dashboard-tests")).toHaveText(String(summary.total_tests));
  await expect(page.locator("#dashboard-open-remediations")).toHaveText(String(summary.open_remediations));
  await expect(page.locator("#dashboard-validated")).toHaveText(
    `${summary.techniques.validated} of ${summary.techniques.total}`,
  );
  await expect(page.locator("#dashboard-coverage-percent")).toHaveText(`${summary.coverage_percent.toFixed(1)}%`);

  // Our platform only: exactly the three seeded tests, reaching the stages we drove them to.
  await page.locator("#dash-platform").fill(platform);
  await page.locator("#dashboard-filters button[type=submit]").click();
  await expect(page).toHaveURL(new RegExp(`platform=${platform}`));
  await expect(page.locator("#dashboard-tests")).toHaveText("3");
  const funnel = page.locator("#dashboard-pipeline .chart-funnel");
  await expect(funnel.locator('.chart-stage[data-label="Draft"]')).toHaveAttribute("data-value", "3");
  await expect(funnel.locator('.chart-stage[data-label="Red executing"]')).toHaveAttribute("data-value", "2");
  await expect(funnel.locator('.chart-stage[data-label="Blue evaluating"]')).toHaveAttribute("data-value", "1");
  await expect(funnel.locator('.chart-stage[data-label="Validated"]')).toHaveAttribute("data-value", "0");
  // The numbers are readable without the picture.
  await funnel.locator("details.chart-details summary").click();
  await expect(funnel.locator("table.chart-data")).toContainText("Blue evaluating");

  // Charts for tactics and activity are drawn; recent tests list the seeded ones.
  await expect(page.locator("#dashboard-by-tactic .chart-bars .chart-row").first()).toBeVisible();
  await expect(page.locator("#dashboard-activity .chart-line")).toBeVisible();
  await expect(page.locator("#dashboard-recent")).toContainText("Dash submitted");
  expect(problems).toEqual([]);
});

test("reports preview, and download as CSV and as a Navigator layer", async ({ page }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "dash_red_lead", password);
  await page.goto("/reports?kind=test-results", { waitUntil: "networkidle" });
  await expect(page.getByRole("heading", { name: "Reports" })).toBeVisible();
  await page.locator("#report-state").selectOption("blue_evaluating");
  await page.locator("#report-filters button[type=submit]").click();
  await expect(page).toHaveURL(/state=blue_evaluating/);
  await expect(page.locator("#report-preview")).toContainText("Dash submitted");
  await expect(page.locator("#report-preview")).not.toContainText("Dash draft");

  const [csv] = await Promise.all([page.waitForEvent("download"), page.locator("#download-csv").click()]);
  expect(csv.suggestedFilename()).toMatch(/^aegis-test-results-.*\.csv$/);
  const text = fs.readFileSync(await csv.path(), "utf8");
  const lines = text.trim().split("\r\n");
  expect(lines[0].split(",").slice(0, 4)).toEqual(["test_id", "title", "technique_id", "state"]);
  expect(lines.some((l) => l.includes("Dash submitted"))).toBe(true);
  expect(lines.slice(1).every((l) => l.includes("blue_evaluating"))).toBe(true);
  expect(lines.some((l) => l.includes("Dash draft"))).toBe(false);

  await page.goto("/reports", { waitUntil: "networkidle" });
  await expect(page.locator("#report-totals")).toContainText("techniques");
  const [layerDownload] = await Promise.all([
    page.waitForEvent("download"),
    page.locator("#download-layer").click(),
  ]);
  const layer = JSON.parse(fs.readFileSync(await layerDownload.path(), "utf8"));
  expect(layer.versions.layer).toBe("4.5");
  expect(layer.domain).toBe("enterprise-attack");
  const ids = layer.techniques.map((t: { techniqueID: string }) => t.techniqueID);
  expect(ids).toContain("T1059");
  const t1059 = layer.techniques.find((t: { techniqueID: string }) => t.techniqueID === "T1059");
  expect(t1059.tactic).toBe("execution");
  expect(t1059.score).toBeGreaterThanOrEqual(25);

  // The layer goes back in as a technique set, which then filters the reports.
  const setName = `E2E layer ${Date.now()}`;
  await page.locator("#layer-file").setInputFiles({
    name: "layer.json",
    mimeType: "application/json",
    buffer: Buffer.from(JSON.stringify({ ...layer, name: setName })),
  });
  await page.locator("#layer-import button[type=submit]").click();
  const listed = page.locator(`#technique-set-list [data-set="${setName}"]`);
  await expect(listed).toBeVisible();
  await expect(listed).toContainText("5 techniques");
  await page.locator("#report-set").selectOption({ label: setName });
  await page.locator("#report-filters button[type=submit]").click();
  await expect(page).toHaveURL(/technique_set=/);
  await expect(page.locator("#report-totals")).toContainText("5 techniques");
  expect(problems).toEqual([]);
});
