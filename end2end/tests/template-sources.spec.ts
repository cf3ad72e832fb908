import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

// Runs after template-catalog.spec.ts, which imported the ATT&CK fixture (T1059, T1053, …).
const CERTUTIL = `---
Name: Certutil.exe
Description: Windows binary used for handling certificates
Author: Oddvar Moe
Created: 2018-05-25
Commands:
  - Command: certutil.exe -urlcache -f {REMOTEURL:.exe} {PATH:.exe}
    Description: Download and save an executable to disk.
    Usecase: Download file from Internet
    Category: Download
    Privileges: User
    MitreID: T1059
    OperatingSystem: Windows 10, Windows 11
  - Command: certutil -decode {PATH:.base64} {PATH}
    Description: Decode a Base64 file.
    Usecase: Decode files to evade defensive measures
    Category: Decode
    Privileges: User
    MitreID: T1053
Full_Path:
  - Path: C:\\Windows\\System32\\certutil.exe
Detection:
  - Sigma: https://example.test/sigma/proc_creation_win_certutil_download.yml
  - IOC: Certutil.exe creating new files on disk
`;

/** A checkout of LOLBAS: one binary, and files the import leaves alone. */
function lolbasFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aegis-lolbas-"));
  const checkout = path.join(dir, "LOLBAS-master");
  fs.mkdirSync(path.join(checkout, "yml", "OSBinaries"), { recursive: true });
  fs.writeFileSync(path.join(checkout, "README.md"), "# LOLBAS\n");
  fs.writeFileSync(path.join(checkout, "yml", "YML-Template.yml"), "Name: template\n");
  fs.writeFileSync(path.join(checkout, "yml", "OSBinaries", "Certutil.yml"), CERTUTIL);
  return checkout;
}

test("an admin imports LOLBAS from the System panel, and a test starts from one of its commands", async ({ page }) => {
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await expect(page.locator("#lolbas-import")).toContainText("LOLBAS");

  // GTFOBins' technique per function: the installation's own, kept across reloads.
  await page.locator("#gtfobins-mapping summary").click();
  const fileRead = page.locator('#gtfobins-mapping tr[data-function="file-read"]');
  await expect(fileRead).toContainText("T1005");
  await fileRead.locator('input[name="techniques"]').fill("T1552.001");
  await fileRead.getByRole("button", { name: "Save" }).click();
  await expect(fileRead.locator('input[name="techniques"]')).toHaveValue("T1552.001");
  await page.reload({ waitUntil: "networkidle" });
  await page.locator("#gtfobins-mapping summary").click();
  await expect(
    page.locator('#gtfobins-mapping tr[data-function="file-read"] input[name="techniques"]'),
  ).toHaveValue("T1552.001");

  // The folder picker sends only the LOLBAS entries; the job runs live in the panel.
  await page.locator("#lolbas-folder").setInputFiles(lolbasFolder());
  await page.locator("#lolbas-folder-upload").click();
  await expect(page.locator("#job-progress")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.locator("#job-outcome")).toContainText("2 added, 0 updated, 0 unchanged, 0 files skipped");
  await expect(page.locator('#lolbas-history tr[data-status="succeeded"]').first()).toContainText(
    "upload:LOLBAS-master/ (folder)",
  );

  // The catalog filters by the new source; the template page shows LOLBAS's own fields.
  await page.goto("/catalog?source=lolbas", { waitUntil: "networkidle" });
  await expect(page.locator("#catalog-table tbody tr")).toHaveCount(2);
  await page.locator('#catalog-table [data-template="Certutil.exe: Decode a Base64 file."] a').click();
  await expect(page.locator("#template-name")).toHaveText("Certutil.exe: Decode a Base64 file.");
  await expect(page.locator("#template-command")).toContainText("certutil -decode #{path_base64} #{path}");
  const source = page.locator("#template-source");
  await expect(source).toContainText("GPL-3.0");
  await expect(source).toContainText("Decode files to evade defensive measures");
  await expect(page.locator("#lolbas-paths")).toContainText("C:\\Windows\\System32\\certutil.exe");
  await expect(page.locator("#lolbas-detections a")).toHaveAttribute(
    "href",
    "https://example.test/sigma/proc_creation_win_certutil_download.yml",
  );
  await expect(page.locator("#template-source-url")).toHaveAttribute(
    "href",
    "https://lolbas-project.github.io/lolbas/Binaries/Certutil/",
  );

  // A test from it: the placeholders are input arguments.
  await page.waitForLoadState("networkidle");
  await page.locator("#argument-path_base64").fill("C:\\Temp\\payload.b64");
  await page.locator("#argument-path").fill("C:\\Temp\\payload.exe");
  await page.locator("#create-from-template-submit").click();
  await expect(page).toHaveURL(/\/tests\/[0-9a-f-]{36}$/);
  await expect(page.locator("#test-title")).toHaveText("Certutil.exe: Decode a Base64 file.");
  await page.locator("#tab-red").click();
  await expect(page.locator("#field-command_executed")).toHaveValue(
    "certutil -decode C:\\Temp\\payload.b64 C:\\Temp\\payload.exe",
  );
  await expect(page.locator("#red-procedure")).toContainText("# executor: command_prompt");
  expect(problems).toEqual([]);
});
