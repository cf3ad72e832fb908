import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");
const password = "intel-e2e-password";

/** A research blog's Atom feed: one post about scheduled tasks, one about nothing. */
const ATOM = `<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom">
  <title>E2E research</title><id>urn:e2e</id><updated>2026-11-20T00:00:00Z</updated>
  <entry>
    <title>FIN7 persists with scheduled tasks</title>
    <id>urn:e2e:1</id><link href="https://research.e2e.example/fin7"/>
    <published>2026-11-20T10:00:00Z</published><updated>2026-11-20T10:00:00Z</updated>
    <summary type="html">&lt;p&gt;The intrusion used &lt;a href="https://attack.mitre.org/techniques/T1053/"&gt;T1053&lt;/a&gt;.&lt;/p&gt;&lt;script&gt;document.title='owned'&lt;/script&gt;</summary>
  </entry>
  <entry>
    <title>Office party photos</title>
    <id>urn:e2e:2</id><link href="https://research.e2e.example/party"/>
    <published>2026-11-19T10:00:00Z</published><updated>2026-11-19T10:00:00Z</updated>
    <summary>Nothing to see.</summary>
  </entry>
</feed>`;

let server: http.Server;
let feedUrl = "";

test.beforeAll(async ({ request }) => {
  server = http.createServer((_req, res) => {
    res.writeHead(200, { "content-type": "application/atom+xml" });
    res.end(ATOM);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  feedUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/feed.xml`;
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);
  const created = await request.post("/api/v1/users", {
    headers,
    data: { username: "intel_lead", password, role: "blue_lead", display_name: "Intel Lead" },
  });
  expect([201, 409]).toContain(created.status());
});

test.afterAll(() => server?.close());

test("an admin adds a feed and scans it; a lead marks an item relevant and finds it on the technique page", async ({
  browser,
}) => {
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const adminProblems = watchProblems(admin);
  await signInAndWait(admin, "admin", adminPassword);
  await admin.goto("/admin/system", { waitUntil: "networkidle" });
  const feeds = admin.locator("#intel-feeds");
  await expect(feeds).toContainText("Threat-intel feeds");
  // The seed list is offered, not subscribed.
  await feeds.locator("#intel-seeds summary").click();
  await expect(feeds.locator('#intel-seeds li[data-seed="The DFIR Report"] .add-seed')).toBeVisible();

  await admin.locator("#feed-name").fill("E2E research");
  await admin.locator("#feed-url").fill(feedUrl);
  await admin.locator("#feed-add").click();
  const row = feeds.locator('tr.intel-feed[data-feed="E2E research"]');
  await expect(row).toContainText(feedUrl);
  await expect(row).toContainText("never fetched");

  await admin.locator("#intel-scan-now").click();
  await expect(admin.locator("#job-progress")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(admin.locator("#job-outcome")).toContainText("Scanned 1 feeds: 2 new items, 0 failed; 1 techniques need attention");
  await expect(feeds.locator('tr.intel-feed[data-feed="E2E research"]')).toHaveAttribute("data-status", "ok");
  await expect(feeds.locator('tr.intel-feed[data-feed="E2E research"]')).toContainText("2 (2 new last time)");
  expect(adminProblems).toEqual([]);

  // The lead triages on the Intel page: matched items only, chips link into the matrix.
  const leadContext = await browser.newContext();
  const lead = await leadContext.newPage();
  const problems = watchProblems(lead);
  await signInAndWait(lead, "intel_lead", password);
  await lead.getByRole("link", { name: "Threat intel" }).click();
  await expect(lead).toHaveURL(/\/intel$/);
  await expect(lead.locator("#intel-items .intel-item")).toHaveCount(2);
  await lead.locator("#intel-matched").check();
  await lead.locator("#intel-filter-submit").click();
  await expect(lead).toHaveURL(/matched=true/);
  const items = lead.locator("#intel-items .intel-item");
  await expect(items).toHaveCount(1);
  const item = items.first();
  await expect(item.locator(".intel-title")).toHaveText("FIN7 persists with scheduled tasks");
  await expect(item.locator(".intel-summary")).toHaveText("The intrusion used T1053.");
  expect(await lead.title()).not.toBe("owned");
  await expect(item.locator('.intel-chips [data-mention="T1053"] a')).toHaveAttribute("href", "/techniques/T1053");
  await expect(item.locator('.intel-chips [data-mention="G0046"]')).toContainText("FIN7");
  await item.locator('button.triage[data-status="relevant"]').click();
  await expect(lead.locator('#intel-items .intel-item[data-status="relevant"] .intel-status')).toHaveText("Relevant");

  // The technique page's Intel section lists it; the matrix can show what intel mentioned.
  await lead.goto("/techniques/T1053", { waitUntil: "networkidle" });
  const section = lead.locator("#intel-section");
  await expect(section).toContainText("1 item mention");
  await expect(section.locator('.intel-mention[data-status="relevant"]')).toContainText("FIN7 persists with scheduled tasks");
  await lead.goto("/matrix?intel_days=30", { waitUntil: "networkidle" });
  await expect(lead.locator("#filter-intel")).toHaveValue("30");
  await expect(lead.locator("#matrix-count")).toHaveText("1 techniques and sub-techniques shown");
  expect(problems).toEqual([]);
  await adminContext.close();
  await leadContext.close();
});
