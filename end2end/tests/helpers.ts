import { expect, type Page } from "@playwright/test";

/** Signs in through the login form and waits for the signed-in frame. */
export async function signIn(page: Page, username: string, password: string) {
  await page.goto("/login", { waitUntil: "networkidle" });
  await page.getByLabel("Username").fill(username);
  await page.getByLabel("Password").fill(password);
  await page.getByRole("button", { name: "Sign in" }).click();
}

export async function signInAndWait(page: Page, username: string, password: string) {
  await signIn(page, username, password);
  await expect(page.locator("#current-user")).toBeVisible();
}

/**
 * Collects page errors and console errors (a broken CSP nonce or a hydration mismatch shows up
 * as one). 4xx answers that tests provoke on purpose are logged as failed loads and ignored.
 */
export function watchProblems(page: Page): string[] {
  const problems: string[] = [];
  page.on("pageerror", (err) => problems.push(`${page.url()}: ${err.message}`));
  page.on("console", (msg) => {
    if (msg.type() === "error" && !/status of 4\d\d/.test(msg.text())) problems.push(`${page.url()}: ${msg.text()}`);
  });
  return problems;
}
