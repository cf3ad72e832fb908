import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

// Every page, loaded directly (server-rendered, then hydrated), must hydrate cleanly: a
// mismatch between server and browser rendering shows up as a console error or a panic.
test("every page renders on the server and hydrates without errors", async ({ page }) => {
  const problems = watchProblems(page);

  await signInAndWait(page, "admin", adminPassword);

  const bundle = fs.readFileSync(path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json"));
  const imported = await page.request.post("/api/fn/import_attack_bundle", {
    headers: { origin: new URL(page.url()).origin },
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: bundle } },
  });
  expect(imported.status()).toBe(200);

  const me = await (await page.request.get("/api/v1/auth/me")).json();
  const created = await page.request.post("/api/v1/tests", {
    headers: { origin: new URL(page.url()).origin },
    data: { title: "Hydration check", technique_id: "T1059", procedure: "whoami" },
  });
  expect(created.status()).toBe(201);
  const test = await created.json();
  const campaign = await (
    await page.request.post("/api/v1/campaigns", {
      headers: { origin: new URL(page.url()).origin },
      data: { name: "Hydration campaign", attack_campaign: "C0001", recurrence: { every: "monthly" }, start_date: "2026-01-01" },
    })
  ).json();
  expect(campaign.id).toBeTruthy();
  const pages = [
    "/campaigns",
    "/campaigns?status=active&search=hydration",
    `/campaigns/${campaign.id}`,
    `/tests/new?technique=T1059&campaign=${campaign.id}`,
    `/tests?campaign=${campaign.id}`,
    `/?campaign=${campaign.id}`,
    `/reports?kind=test-results&campaign=${campaign.id}`,
    "/",
    "/?platform=windows&granularity=week&date_from=2026-01-01",
    "/reports",
    "/reports?kind=test-results&state=draft",
    "/reports?kind=remediation&status=in_progress",
    "/profile",
    "/matrix",
    "/matrix?platform=Windows&status=not_covered",
    "/matrix?intel_days=30",
    "/matrix?rules=none",
    "/matrix?mode=score",
    "/matrix?mode=visibility",
    "/scoring",
    "/data-sources",
    "/data-sources?collected=yes",
    "/compliance",
    "/intel",
    "/detection-rules",
    "/detection-rules?source=sigma&technique=T1059&level=high",
    "/intel?technique=T1059&status=new&since=2026-01-01&matched=true",
    "/techniques/T1059",
    "/techniques/T1059.001",
    "/threat-actors",
    "/threat-actors/G0006",
    "/admin/users",
    `/admin/users/${me.id}`,
    "/admin/audit",
    "/admin/audit?action=attack.import",
    "/admin/system",
    "/tests",
    "/catalog",
    "/catalog?source=atomic_red_team&severity=high",
    "/tests?state=draft&mine=true&search=hydration",
    "/tests/new?technique=T1059",
    `/tests/${test.id}`,
  ];
  for (const url of pages) {
    const response = await page.goto(url, { waitUntil: "networkidle" });
    expect(response?.status(), url).toBe(200);
    await expect(page.locator("main h1").first(), url).toBeVisible();
  }
  expect(problems).toEqual([]);
});
