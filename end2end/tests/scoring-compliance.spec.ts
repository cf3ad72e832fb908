// The scoring engine and compliance in the browser: an admin changes a weight (previewed live)
// and the matrix's score mode changes with it; the compliance page shows a framework's
// families and controls, and a control its evidence.
import { expect, test, type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");

test.describe.configure({ mode: "serial" });

const mapping = {
  metadata: {
    attack_version: "16.1",
    technology_domain: "enterprise",
    mapping_framework: "nist_800_53",
    mapping_framework_version: "rev5",
    capability_groups: { AC: "Access Control", CM: "Configuration Management" },
  },
  mapping_objects: [
    { capability_id: "AC-02", capability_description: "Account Management", capability_group: "AC", mapping_type: "mitigates", attack_object_id: "T1059.004", status: "complete" },
    { capability_id: "AC-02", capability_description: "Account Management", capability_group: "AC", mapping_type: "mitigates", attack_object_id: "T1595", status: "complete" },
    { capability_id: "CM-07", capability_description: "Least Functionality", capability_group: "CM", mapping_type: "mitigates", attack_object_id: "T1053", status: "complete" },
  ],
};

let headers: Record<string, string> = {};

test.beforeAll(async ({ request }) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  expect(login.status()).toBe(200);
  headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);
  // A draft of T1059.001 (in progress), and a validated detection of T1059.004 (the threat-intel
  // spec after this one needs T1053 untouched).
  const draft = await request.post("/api/v1/tests", { headers, data: { title: "Scoring draft", technique_id: "T1059.001" } });
  expect(draft.status()).toBe(201);
  const created = await request.post("/api/v1/tests", { headers, data: { title: "Scoring evidence", technique_id: "T1059.004", platform: "Linux" } });
  expect(created.status()).toBe(201);
  const id = (await created.json()).id as string;
  for (const step of ["start-execution", "submit-red"]) {
    expect((await request.post(`/api/v1/tests/${id}/${step}`, { headers })).status()).toBe(200);
  }
  expect((await request.patch(`/api/v1/tests/${id}/blue`, { headers, data: { detection_result: "detected", alert_fired: true } })).status()).toBe(200);
  expect((await request.post(`/api/v1/tests/${id}/submit-blue`, { headers })).status()).toBe(200);
  expect((await request.post(`/api/v1/tests/${id}/validate-red`, { headers, data: { status: "approved" } })).status()).toBe(200);
  expect((await request.post(`/api/v1/tests/${id}/validate-blue`, { headers, data: { status: "approved" } })).status()).toBe(200);
  const upload = await request.post("/api/v1/system/import-compliance", {
    headers,
    multipart: { file: { name: "nist.json", mimeType: "application/json", buffer: Buffer.from(JSON.stringify(mapping)) } },
  });
  expect(upload.status()).toBe(202);
  const job = (await upload.json()).job_id as string;
  await expect
    .poll(async () => (await (await request.get(`/api/v1/system/jobs/${job}`, { headers })).json()).status, { timeout: 30_000 })
    .toBe("succeeded");
});

test.afterAll(async ({ request }) => {
  // Later specs see the default scoring again.
  await request.put("/api/v1/scoring/config", { headers, data: {} });
});

async function asAdmin(browser: Browser): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  return { page, problems };
}

async function open(page: Page, url: string) {
  await page.goto(url, { waitUntil: "networkidle" });
}

const cell = (page: Page, id: string) => page.locator(`#matrix a.technique-cell[data-technique="${id}"]`).first();

test("an admin changes a weight, sees its effect previewed, saves it, and the matrix's score mode changes", async ({ browser }) => {
  const { page, problems } = await asAdmin(browser);
  // Defaults: in progress is a quarter of the coverage factor's 30 of 90 (no data component).
  await open(page, "/matrix?mode=score");
  await expect(page.locator("#heat-legend")).toHaveAttribute("data-mode", "score");
  await expect(cell(page, "T1059.001")).toHaveAttribute("data-value", "8");
  await expect(cell(page, "T1059.001")).toHaveAttribute("title", /Coverage status 8\.3/);

  await open(page, "/scoring");
  const version = Number((await page.locator("#scoring-config h2").textContent())?.match(/version (\d+)/)?.[1]);
  const before = Number(await page.locator("#overall-score").getAttribute("data-value"));
  await page.locator("#weight-coverage").fill("100");
  for (const factor of ["quality", "recency", "breadth", "rules", "visibility"]) {
    await page.locator(`#weight-${factor}`).fill("0");
  }
  // The preview follows the form before anything is saved.
  await expect(page.locator("#preview-overall")).toBeVisible();
  await expect(page.locator("#preview-current")).toHaveText(before.toFixed(1));
  await expect.poll(async () => Number(await page.locator("#preview-overall").getAttribute("data-value"))).not.toBe(before);
  await page.locator("#scoring-note").fill("Coverage status only");
  await page.locator("#scoring-save").click();
  await expect(page.locator("#scoring-config h2")).toHaveText(`Configuration (version ${version + 1})`);
  await expect(page.locator(`#scoring-history tr[data-version="${version + 1}"]`)).toContainText("Coverage status only");

  await open(page, "/matrix?mode=score");
  await expect(cell(page, "T1059.001")).toHaveAttribute("data-value", "25");
  await expect(cell(page, "T1059.004")).toHaveAttribute("data-value", "100");
  // The mode switch is a plain form: gap mode from the filters.
  await page.locator("#filter-mode").selectOption("gap");
  await page.locator("#matrix-filter-submit").click();
  await expect(page).toHaveURL(/mode=gap/);
  await expect(page.locator("#heat-legend")).toHaveAttribute("data-mode", "gap");
  await expect(page.locator("#matrix-layer")).toHaveAttribute("href", /mode=gap/);
  // The Reports page's layer download takes the same modes.
  await open(page, "/reports?kind=coverage");
  await page.locator("#report-mode").selectOption("score");
  await page.locator("#report-filters button[type=submit]").click();
  await expect(page.locator("#download-layer")).toHaveAttribute("href", /mode=score/);
  await expect(page.locator("#report-mode")).toHaveValue("score");
  // A bad weight is refused beside its field.
  await open(page, "/scoring");
  await page.locator("#weight-quality").fill("500");
  await page.locator("#scoring-save").click();
  await expect(page.locator("#scoring-config")).toContainText("must be a number from 0 to 100");
  expect(problems).toEqual([]);
});

test("the compliance page shows a framework's family coverage and a control's evidence", async ({ browser }) => {
  const { page, problems } = await asAdmin(browser);
  await open(page, "/compliance");
  await expect(page.locator("#framework-summary")).toContainText("NIST SP 800-53 rev5");
  // AC-2 maps T1059.004 (validated) and T1595 (not covered): half of the Access Control family.
  await expect(page.locator('#family-table tr[data-family="AC"]')).toHaveAttribute("data-coverage", "50");
  await expect(page.locator('#family-table tr[data-family="AC"]')).toContainText("50.0%");
  await expect(page.locator('#family-table tr[data-family="CM"]')).toHaveAttribute("data-coverage", "0");
  await expect(page.locator("#family-chart svg")).toBeVisible();
  await expect(page.locator('#control-table tr[data-control="AC-2"]')).toContainText("50.0%");
  // The page is hydrated: its links navigate in the app.
  await page.locator('#control-table tr[data-control="AC-2"] a').click();
  await expect(page).toHaveURL(/\/compliance\/controls\//);
  await expect(page.locator("#control-title")).toHaveText("AC-2 Account Management");
  await expect(page.locator("#control-not-covered")).toContainText("T1595");
  await expect(page.locator('tr.mapped-technique[data-technique="T1059.004"] .evidence-test a')).toHaveText("Scoring evidence");
  await expect(page.locator("#compliance-csv")).toHaveCount(0);
  await page.locator("text=← NIST SP 800-53 rev5").click();
  await expect(page.locator("#compliance-csv")).toHaveAttribute("href", /format=csv/);
  // The data-source inventory is there for the blue team (the fixture names no ATT&CK id on its component).
  await open(page, "/data-sources");
  await expect(page.locator("#visibility-summary")).toBeVisible();
  expect(problems).toEqual([]);
});
