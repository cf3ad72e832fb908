import { expect, test, type Page } from "@playwright/test";
import { adminPassword } from "../playwright.config";
import { signIn } from "./helpers";

const techUser = "rtech";
const techPassword = "red-tech-password-1";

// A broken CSP nonce or a hydration mismatch shows up as a console error: fail on any.
test.beforeEach(async ({ page }) => {
  const problems: string[] = [];
  page.on("console", (msg) => {
    if (msg.type() === "error") problems.push(msg.text());
  });
  page.on("pageerror", (err) => problems.push(err.message));
  (page as Page & { problems?: string[] }).problems = problems;
});

test.afterEach(async ({ page }) => {
  const problems = (page as Page & { problems?: string[] }).problems ?? [];
  // 4xx answers the tests provoke on purpose (bad input, 401, 403) are logged as failed loads.
  const unexpected = problems.filter((p) => !/status of 4\d\d/.test(p));
  expect(unexpected, unexpected.join("\n")).toEqual([]);
});

test.describe.configure({ mode: "serial" });

test("admin signs in, creates a red_tech user and signs out", async ({ page }) => {
  await signIn(page, "admin", adminPassword);
  await expect(page).toHaveURL(/\/$/);
  await expect(page.locator("#current-user")).toHaveText("Administrator");
  await expect(page.locator("#current-role")).toHaveText("Administrator");
  await expect(page.getByRole("heading", { name: "Dashboard" })).toBeVisible();
  await expect(page.locator("#nav-admin")).toBeVisible();

  // Icons are inline SVG with a drawn size, not font glyphs that may be missing.
  for (const icon of ["dashboard", "tests", "system", "menu", "bell"]) {
    const svg = page.locator(`svg[data-icon="${icon}"]`).first();
    await expect(svg).toBeVisible();
    const box = await svg.boundingBox();
    expect(box && box.width >= 16 && box.height >= 16, icon).toBeTruthy();
  }

  // The sidebar collapses and expands.
  await page.locator("#sidebar-toggle").click();
  await expect(page.locator("#sidebar")).toHaveAttribute("data-collapsed", "true");
  await page.locator("#sidebar-toggle").click();
  await expect(page.locator("#sidebar")).toHaveAttribute("data-collapsed", "false");

  await page.getByRole("link", { name: "Users" }).click();
  await expect(page).toHaveURL(/\/admin\/users$/);
  await page.waitForLoadState("networkidle");

  // A too-short password is refused, with the reason beside the field.
  await page.locator("#new-username").fill(techUser);
  await page.locator("#new-display-name").fill("Riley Tech");
  await page.locator("#new-role").selectOption("red_tech");
  await page.locator("#new-password").fill("short");
  await page.locator("#create-user-submit").click();
  await expect(page.locator('.field-error[data-field="password"]')).toBeVisible();

  await page.locator("#new-password").fill(techPassword);
  await page.locator("#create-user-submit").click();
  await expect(page.locator(".alert-success")).toHaveText(`User ${techUser} created.`);
  const row = page.locator(`tr[data-username="${techUser}"]`);
  await expect(row).toBeVisible();
  await expect(row).toContainText("Red Team Technician");

  // The creation is in the audit log.
  await page.getByRole("link", { name: "Audit log" }).click();
  await page.waitForLoadState("networkidle");
  await page.locator("#filter-action").selectOption("user.create");
  await page.locator("#audit-filter-submit").click();
  await expect(page).toHaveURL(/action=user.create/);
  await expect(page.locator('#audit-table tr[data-action="user.create"]').first()).toContainText(techUser);

  await page.locator("#logout").click();
  await expect(page).toHaveURL(/\/login$/);
});

test("red_tech sees no admin section and gets a 403 page for user admin", async ({ page }) => {
  await signIn(page, techUser, techPassword);
  await expect(page.locator("#current-user")).toHaveText("Riley Tech");
  await expect(page.locator("#current-role")).toHaveText("Red Team Technician");
  await expect(page.locator("#nav-admin")).toHaveCount(0);

  const response = await page.goto("/admin/users");
  expect(response?.status()).toBe(403);
  await expect(page.locator("#forbidden")).toBeVisible();
  await expect(page.getByRole("heading", { name: "You do not have access to this page" })).toBeVisible();
  await expect(page.locator("#users-table")).toHaveCount(0);

  const api = await page.request.get("/api/v1/users");
  expect(api.status()).toBe(403);
});

test("a wrong password shows a clear error", async ({ page }) => {
  await signIn(page, "admin", "definitely-wrong");
  await expect(page.getByRole("alert")).toHaveText("Invalid username or password");
  await expect(page).toHaveURL(/\/login/);
});

test("sign-out returns to the login page and the old cookie stops working", async ({ page, context }) => {
  await signIn(page, techUser, techPassword);
  await expect(page.locator("#current-user")).toBeVisible();
  const session = (await context.cookies()).find((c) => c.name === "aegis_session");
  expect(session?.httpOnly).toBe(true);
  expect(session?.sameSite).toBe("Strict");

  await page.locator("#logout").click();
  await expect(page).toHaveURL(/\/login$/);
  await expect(page.getByRole("button", { name: "Sign in" })).toBeVisible();

  // Replaying the old cookie gets nothing.
  const replay = await page.request.get("/api/v1/auth/me", {
    headers: { cookie: `aegis_session=${session!.value}` },
  });
  expect(replay.status()).toBe(401);
  await context.addCookies([{ ...session! }]);
  await page.goto("/profile");
  await expect(page).toHaveURL(/\/login\?next=%2Fprofile/);
});

test.describe("without JavaScript", () => {
  test.use({ javaScriptEnabled: false });

  test("the login form still works and still shows errors", async ({ page }) => {
    await page.goto("/login?next=%2Fprofile");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill("wrong-password-x");
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page.getByRole("alert")).toHaveText("Invalid username or password");

    await page.goto("/login?next=%2Fprofile");
    await page.getByLabel("Username").fill("admin");
    await page.getByLabel("Password").fill(adminPassword);
    await page.getByRole("button", { name: "Sign in" }).click();
    await expect(page).toHaveURL(/\/profile$/);
    await expect(page.locator("#current-user")).toHaveText("Administrator");
  });
});
