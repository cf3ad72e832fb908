// Runs after the knowledge-base spec (it expects an empty matrix) and before workflow.spec.ts.
import { expect, test, type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");
const password = "campaigns-e2e-password";

test.describe.configure({ mode: "serial" });

let adminToken = "";

/** Loads the ATT&CK fixture (with ATT&CK campaign C0001) and a red lead and a viewer. */
test.beforeAll(async ({ request }) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  expect(login.status()).toBe(200);
  adminToken = (await login.json()).access_token as string;
  const headers = { Authorization: `Bearer ${adminToken}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);
  for (const [username, role] of [
    ["cp_red_lead", "red_lead"],
    ["cp_viewer", "viewer"],
  ]) {
    const created = await request.post("/api/v1/users", {
      headers,
      data: { username, password, role, display_name: `CP ${role}` },
    });
    expect([201, 409]).toContain(created.status());
  }
});

async function as(browser: Browser, username: string, secret = password): Promise<{ page: Page; problems: string[] }> {
  const page = await (await browser.newContext()).newPage();
  const problems = watchProblems(page);
  await signInAndWait(page, username, secret);
  return { page, problems };
}

async function open(page: Page, url: string) {
  await page.goto(url, { waitUntil: "networkidle" });
}

test("a lead plans a campaign for an actor, generates its tests, sees one validated in its progress, adds and removes one, and completes it", async ({
  browser,
  request,
}) => {
  const lead = await as(browser, "cp_red_lead");
  await open(lead.page, "/campaigns");
  await lead.page.locator("#new-campaign summary").click();
  await lead.page.locator("#campaign-name").fill("Operation Mini drill");
  await lead.page.locator("#campaign-objective").fill("See every step of Operation Mini");
  await lead.page.locator("#campaign-actor").selectOption("G0006");
  await lead.page.locator("#campaign-new-status").selectOption("active");
  await lead.page.locator("#new-campaign-form button[type=submit]").click();
  await expect(lead.page).toHaveURL(/\/campaigns\/[0-9a-f-]{36}$/);
  const campaignUrl = lead.page.url();
  const campaignId = campaignUrl.split("/").pop() as string;
  await expect(lead.page.locator("#campaign-title")).toHaveText("Operation Mini drill");
  await expect(lead.page.locator("#campaign-status .campaign-status")).toHaveAttribute("data-status", "active");
  await expect(lead.page.locator("#campaign-emulates")).toContainText("G0006 APT1");
  await expect(lead.page.locator("#campaign-tests-empty")).toBeVisible();

  // Generate: one draft per technique of C0001.
  await lead.page.locator("#generate-form button[type=submit]").click();
  await expect(lead.page.locator("#generate-report")).toHaveAttribute("data-created", "2");
  await expect(lead.page.locator("#campaign-tests .campaign-test")).toHaveCount(2);
  await expect(lead.page.locator('#campaign-tests [data-technique="T1053"]')).toHaveAttribute("data-state", "draft");
  await expect(lead.page.locator("#campaign-progress .campaign-progress")).toHaveAttribute("data-total", "2");
  // Again: nothing new, both skipped.
  await lead.page.locator("#generate-form button[type=submit]").click();
  await expect(lead.page.locator("#generate-report")).toHaveAttribute("data-skipped", "2");
  await expect(lead.page.locator("#campaign-tests .campaign-test")).toHaveCount(2);

  // One of its tests goes all the way to validated; the progress shows it.
  const headers = { Authorization: `Bearer ${adminToken}` };
  const listed = await (await request.get(`/api/v1/tests?campaign=${campaignId}`, { headers })).json();
  const first = listed.items.find((t: { technique_id: string }) => t.technique_id === "T1053").id as string;
  for (const step of ["start-execution", "submit-red"]) {
    expect((await request.post(`/api/v1/tests/${first}/${step}`, { headers })).status()).toBe(200);
  }
  expect((await request.patch(`/api/v1/tests/${first}/blue`, { headers, data: { detection_result: "detected" } })).status()).toBe(200);
  expect((await request.post(`/api/v1/tests/${first}/submit-blue`, { headers })).status()).toBe(200);
  for (const side of ["red", "blue"]) {
    const voted = await request.post(`/api/v1/tests/${first}/validate-${side}`, {
      headers,
      data: { [`${side}_validation_status`]: "approved" },
    });
    expect(voted.status()).toBe(200);
  }
  await open(lead.page, campaignUrl);
  await expect(lead.page.locator('#campaign-tests [data-technique="T1053"]')).toHaveAttribute("data-state", "validated");
  await expect(lead.page.locator("#campaign-progress .campaign-progress")).toHaveAttribute("data-finished", "1");
  await expect(lead.page.locator('#campaign-by-state li[data-state="validated"]')).toHaveAttribute("data-count", "1");
  await expect(lead.page.locator("#campaign-covered")).toHaveText("1");
  await expect(lead.page.locator("#campaign-progress")).toHaveAttribute("data-percent", "50");

  // A draft outside any campaign joins with one click, and leaves again.
  const loose = await request.post("/api/v1/tests", {
    headers,
    data: { title: "Loose scan drill", technique_id: "T1595", platform: "macos" },
  });
  expect(loose.status()).toBe(201);
  await open(lead.page, campaignUrl);
  await lead.page.locator('#campaign-candidates li[data-title="Loose scan drill"] button.add-test').click();
  await expect(lead.page.locator("#campaign-tests .campaign-test")).toHaveCount(3);
  await lead.page.locator('#campaign-tests [data-technique="T1595"] button.remove-test').click();
  await expect(lead.page.locator("#campaign-tests .campaign-test")).toHaveCount(2);

  // The lead edits its dates; a bad range is refused with the reason.
  await lead.page.locator("#campaign-edit summary").click();
  await lead.page.locator("#edit-start").fill("2026-12-10");
  await lead.page.locator("#edit-end").fill("2026-12-01");
  await lead.page.locator("#campaign-edit-form button[type=submit]").click();
  await expect(lead.page.locator("#campaign-edit-form")).toContainText("before the start date");
  await lead.page.locator("#edit-start").fill("2026-12-10");
  await lead.page.locator("#edit-end").fill("2026-12-31");
  await lead.page.locator("#campaign-edit-form button[type=submit]").click();
  await expect(lead.page.locator("main")).toContainText("2026-12-10 – 2026-12-31");

  // The list shows it with its progress; the tests list filters by it.
  await open(lead.page, "/campaigns?status=active");
  const row = lead.page.locator('#campaign-list tr[data-name="Operation Mini drill"]');
  await expect(row.locator(".campaign-progress")).toHaveAttribute("data-total", "2");
  await expect(row.locator(".campaign-progress")).toHaveAttribute("data-finished", "1");
  await open(lead.page, `/tests?campaign=${campaignId}`);
  await expect(lead.page.locator("#test-campaign")).toHaveValue(campaignId);
  await expect(lead.page.locator("#tests-table tbody tr")).toHaveCount(2);

  // A test of the campaign shows it in its picker.
  await open(lead.page, `/tests?campaign=${campaignId}&state=draft`);
  await lead.page.locator("#tests-table tbody tr a.font-medium").first().click();
  await expect(lead.page).toHaveURL(/\/tests\/[0-9a-f-]{36}$/);
  await expect(lead.page.locator("#field-campaign_id")).toHaveValue(campaignId);

  // The lead completes the campaign; a viewer sees it completed, without the lead's tools.
  await open(lead.page, campaignUrl);
  await lead.page.locator("#campaign-set-status").selectOption("completed");
  await lead.page.locator("#campaign-status-form button[type=submit]").click();
  await expect(lead.page.locator("#campaign-status .campaign-status")).toHaveAttribute("data-status", "completed");
  await expect(lead.page.locator("#campaign-generate")).toHaveCount(0);
  const viewer = await as(browser, "cp_viewer");
  await open(viewer.page, campaignUrl);
  await expect(viewer.page.locator("#campaign-status .campaign-status")).toHaveAttribute("data-status", "completed");
  await expect(viewer.page.locator("#campaign-status-form")).toHaveCount(0);
  await expect(viewer.page.locator("#campaign-tests .campaign-test")).toHaveCount(2);
  expect(lead.problems).toEqual([]);
  expect(viewer.problems).toEqual([]);
});

test("an admin adds a webhook, sends it a ping and reads its delivery log", async ({ browser }) => {
  const admin = await as(browser, "admin", adminPassword);
  await open(admin.page, "/admin/system");
  const panel = admin.page.locator("#webhooks");
  // Port 9 refuses connections: the ping's attempt fails and is logged.
  await panel.locator("#webhook-url").fill("http://127.0.0.1:9/aegis-hook");
  await panel.locator("#webhook-secret").fill("an-e2e-webhook-secret");
  await panel.locator("#webhook-description").fill("E2E receiver");
  await panel.locator('input[name="completed"]').check();
  await panel.locator("#webhook-form button[type=submit]").click();
  const hook = panel.locator('li.webhook[data-url="http://127.0.0.1:9/aegis-hook"]');
  await expect(hook).toBeVisible();
  await expect(hook).toContainText("test.validated, campaign.completed");
  await expect(panel).not.toContainText("an-e2e-webhook-secret");
  await hook.locator('button[data-op="ping"]').click();
  await hook.locator("button.show-deliveries").click();
  const delivery = hook.locator('.webhook-deliveries tr.delivery[data-event="ping"]');
  await expect(async () => {
    await hook.locator("button.show-deliveries").click();
    await hook.locator("button.show-deliveries").click();
    await expect(delivery).toContainText("1 attempt(s)", { timeout: 1000 });
  }).toPass({ timeout: 20_000 });
  await expect(delivery).toContainText("Could not connect");
  // Edit its events: the list shows the new ones.
  await hook.locator(".webhook-edit summary").click();
  await hook.locator('.webhook-edit input[name="rejected"]').check();
  await hook.locator('.webhook-edit input[name="validated"]').uncheck();
  await hook.locator(".webhook-edit button.save-webhook").click();
  await expect(hook).toContainText("test.rejected, campaign.completed");
  await hook.locator('button[data-op="off"]').click();
  await expect(hook).toHaveAttribute("data-active", "false");
  await hook.locator('button[data-op="remove"]').click();
  await expect(hook).toHaveCount(0);
  expect(admin.problems).toEqual([]);
});
