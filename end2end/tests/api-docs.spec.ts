import { expect, test } from "@playwright/test";
import { adminPassword } from "../playwright.config";
import { signInAndWait, watchProblems } from "./helpers";

// The API docs page: Swagger UI served by Aegis itself under its strict CSP (no CDN, no
// violation), listing the operations of the generated document; "Try it out" calls the API
// with the browser's session cookie.
test("the API docs page lists the API and calls it with the session", async ({ page }) => {
  const problems = watchProblems(page);
  const outside: string[] = [];
  page.on("request", (request) => {
    const url = new URL(request.url());
    if (url.hostname !== "127.0.0.1" && url.hostname !== "localhost" && url.protocol !== "data:") outside.push(request.url());
  });
  await signInAndWait(page, "admin", adminPassword);

  await page.goto("/api/docs/");
  // The document is large: Swagger UI takes a few seconds to render it on a busy machine.
  await expect(page.locator(".swagger-ui .info .title")).toContainText("Aegis API", { timeout: 30_000 });
  const tests = page.locator("#operations-tests-get_tests");
  await expect(tests).toBeVisible();
  await expect(page.locator(".opblock")).not.toHaveCount(0);
  expect(await page.locator(".opblock").count()).toBeGreaterThan(100);

  // Open GET /api/v1/auth/me and run it ("Try it out" is on): the session cookie signs the call.
  const me = page.locator("#operations-auth-get_auth_me");
  await me.locator(".opblock-summary").click();
  await me.getByRole("button", { name: "Execute" }).click();
  const live = me.locator(".live-responses-table");
  await expect(live.locator(".response .response-col_status").first()).toContainText("200");
  await expect(live).toContainText('"username": "admin"');

  expect(outside, "requests outside this origin").toEqual([]);
  expect(problems.filter((p) => /Content Security Policy|Refused to/.test(p))).toEqual([]);
});
