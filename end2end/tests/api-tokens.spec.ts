import { expect, test } from "@playwright/test";
import { adminPassword } from "../playwright.config";
import { signInAndWait, watchProblems } from "./helpers";

// API tokens under the profile: created with a lower role, shown once, usable as a bearer
// token with that role, listed with its last use, revoked at once.
test("an API token is created, used and revoked from the profile", async ({ page, request }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/profile");
  const section = page.locator("#api-tokens");
  await expect(section).toBeVisible();

  await page.locator("#token-name").fill("e2e dashboard");
  await page.locator("#token-days").fill("7");
  await page.locator("#token-role").selectOption("viewer");
  await page.locator("#token-submit").click();
  const secret = (await page.locator("#new-token-secret").innerText()).trim();
  expect(secret).toMatch(/^aegis_pat_[A-Za-z0-9_-]{40,}$/);
  const row = section.locator('tr.api-token[data-name="e2e dashboard"]');
  await expect(row).toBeVisible();
  await expect(row).toContainText("Viewer");
  await expect(row.locator(".last-used")).toHaveText("Never");

  // The token reads as a viewer and may not write.
  const auth = { Authorization: `Bearer ${secret}` };
  expect((await request.get("/api/v1/auth/me", { headers: auth })).status()).toBe(200);
  const write = await request.post("/api/v1/test-templates", { headers: auth, data: { name: "x" } });
  expect(write.status()).toBe(403);

  await page.reload();
  await expect(row.locator(".last-used")).not.toHaveText("Never");
  await expect(page.locator("#new-token-secret")).toHaveCount(0);

  await row.locator(".revoke-token").click();
  await expect(row).toHaveCount(0);
  expect((await request.get("/api/v1/auth/me", { headers: auth })).status()).toBe(401);
  expect(problems).toEqual([]);
});

// A service account: created by an admin without a password, its tokens minted on its page.
test("an admin creates a service account and mints its token", async ({ page, request }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/admin/users", { waitUntil: "networkidle" });
  await page.locator("#new-username").fill("e2e-ci-bot");
  await page.locator("#new-display-name").fill("E2E CI bot");
  await page.locator("#new-role").selectOption("blue_lead");
  await page.locator("#new-service-account").check();
  await page.locator("#create-user-submit").click();
  const row = page.locator('tr[data-username="e2e-ci-bot"]');
  await expect(row).toBeVisible();
  await expect(row.locator(".sign-in")).toHaveText("Service account");

  await row.getByRole("link", { name: "e2e-ci-bot" }).click();
  await expect(page.locator("#edit-sign-in")).toHaveText("Service account (API tokens only)");
  const section = page.locator("#api-tokens");
  await expect(section).toBeVisible();
  await page.locator("#token-name").fill("pipeline");
  await page.locator("#token-submit").click();
  const secret = (await page.locator("#new-token-secret").innerText()).trim();
  expect(secret).toMatch(/^aegis_pat_/);
  await expect(section.locator('tr.api-token[data-name="pipeline"]')).toBeVisible();

  const me = await request.get("/api/v1/auth/me", { headers: { Authorization: `Bearer ${secret}` } });
  expect(me.status()).toBe(200);
  expect((await me.json()).username).toBe("e2e-ci-bot");
  expect(problems).toEqual([]);
});
