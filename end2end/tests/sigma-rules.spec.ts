import { expect, test } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { signInAndWait, watchProblems } from "./helpers";
import { adminPassword } from "../playwright.config";

const fixture = path.resolve(__dirname, "../../server/tests/fixtures/attack-mini.json");

const RULE = `title: Suspicious PowerShell Download Cradle
id: 22222222-0000-4000-8000-000000000001
status: test
description: Detects PowerShell downloading and running a script.
author: E2E
tags:
    - attack.execution
    - attack.t1059.001
logsource:
    category: process_creation
    product: windows
detection:
    selection:
        CommandLine|contains: 'IEX (New-Object Net.WebClient)'
    condition: selection
level: high
`;

/** A checkout of SigmaHQ/sigma with one rule, and files the import leaves alone. */
function sigmaFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "aegis-sigma-"));
  const checkout = path.join(dir, "sigma-master");
  fs.mkdirSync(path.join(checkout, "rules", "windows", "process_creation"), { recursive: true });
  fs.writeFileSync(path.join(checkout, "README.md"), "# Sigma\n");
  fs.writeFileSync(path.join(checkout, "rules", "windows", "process_creation", "ps_cradle.yml"), RULE);
  return checkout;
}

test("an admin imports Sigma from the System panel; the technique page lists the rule, which shows its query", async ({
  page,
  request,
}) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const imported = await request.post("/api/v1/system/import-attack-bundle", {
    headers,
    multipart: { file: { name: "attack-mini.json", mimeType: "application/json", buffer: fs.readFileSync(fixture) } },
  });
  expect(imported.status()).toBe(200);

  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await expect(page.locator("#sigma-import")).toContainText("Sigma");
  await page.locator("#sigma-folder").setInputFiles(sigmaFolder());
  await page.locator("#sigma-folder-upload").click();
  await expect(page.locator("#job-progress")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.locator("#job-outcome")).toContainText("1 added, 0 updated, 0 unchanged, 0 files skipped");

  // The parent technique lists its sub-technique's rule.
  await page.goto("/techniques/T1059", { waitUntil: "networkidle" });
  const rules = page.locator("#technique-rules");
  await expect(rules).toContainText("Suspicious PowerShell Download Cradle");
  await expect(rules).toContainText("Sigma · high");
  await rules.getByRole("link", { name: "Suspicious PowerShell Download Cradle" }).click();
  await expect(page.locator("#rule-title")).toHaveText("Suspicious PowerShell Download Cradle");
  await expect(page.locator("#rule-query")).toContainText("IEX (New-Object Net.WebClient)");
  await expect(page.locator('#rule-techniques [data-technique="T1059.001"] a')).toHaveAttribute("href", "/techniques/T1059.001");
  await expect(page.locator("#rule-source-url")).toHaveAttribute(
    "href",
    "https://github.com/SigmaHQ/sigma/blob/master/rules/windows/process_creation/ps_cradle.yml",
  );

  // The team's notes stay with the rule.
  await page.locator("#rule-notes-text").fill("Fires on our jump hosts; tuned 2026-12");
  await page.locator("#rule-save").click();
  await page.reload({ waitUntil: "networkidle" });
  await expect(page.locator("#rule-notes-text")).toHaveValue("Fires on our jump hosts; tuned 2026-12");
  await expect(page.locator("#rule-active")).toBeChecked();

  // The list filters by technique from the URL.
  await page.goto("/detection-rules?technique=T1059.001&source=sigma", { waitUntil: "networkidle" });
  await expect(page.locator("#rules-table tbody tr")).toHaveCount(1);
  await page.goto("/detection-rules?technique=T1053", { waitUntil: "networkidle" });
  await expect(page.locator("#rules-empty")).toBeVisible();
  expect(problems).toEqual([]);
});

test("a blue tech names the rule that fired; once the test is validated the rule shows as proven", async ({
  browser,
  request,
}) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const password = "sigma-e2e-password";
  const created = await request.post("/api/v1/users", {
    headers,
    data: { username: "sigma_blue", password, role: "blue_tech", display_name: "Sigma Blue" },
  });
  expect([201, 409]).toContain(created.status());
  const test = await (
    await request.post("/api/v1/tests", { headers, data: { title: "Download cradle", technique_id: "T1059.001" } })
  ).json();
  for (const action of ["start-execution", "submit-red"]) {
    expect((await request.post(`/api/v1/tests/${test.id}/${action}`, { headers })).status()).toBe(200);
  }

  const context = await browser.newContext();
  const page = await context.newPage();
  const problems = watchProblems(page);
  await signInAndWait(page, "sigma_blue", password);
  await page.goto(`/tests/${test.id}`, { waitUntil: "networkidle" });
  const picker = page.locator("#fired-rules");
  const rule = picker.locator('label[data-rule="Suspicious PowerShell Download Cradle"] input');
  await expect(rule).not.toBeChecked();
  await rule.check();
  await page.locator("#field-detection_result").selectOption("detected");
  const version = Number(await page.locator("#test-version").getAttribute("data-version"));
  await page.locator('#blue-form button[type="submit"]').click();
  await expect(page.locator("#test-version")).toHaveAttribute("data-version", String(version + 1));
  await page.reload({ waitUntil: "networkidle" });
  await expect(page.locator('#fired-rules label[data-rule="Suspicious PowerShell Download Cradle"] input')).toBeChecked();

  // Not proven until the test is validated.
  await page.goto("/techniques/T1059.001", { waitUntil: "networkidle" });
  await expect(page.locator('#technique-rules [data-rule="Suspicious PowerShell Download Cradle"] .rule-proof')).toHaveAttribute(
    "data-proof",
    "untested",
  );
  expect((await request.post(`/api/v1/tests/${test.id}/submit-blue`, { headers })).status()).toBe(200);
  for (const side of ["red", "blue"]) {
    const voted = await request.post(`/api/v1/tests/${test.id}/validate-${side}`, {
      headers,
      data: { [`${side}_validation_status`]: "approved" },
    });
    expect(voted.status()).toBe(200);
  }
  await page.reload({ waitUntil: "networkidle" });
  await expect(page.locator('#technique-rules [data-rule="Suspicious PowerShell Download Cradle"] .rule-proof')).toHaveAttribute(
    "data-proof",
    "proven",
  );
  await page.locator("#technique-rules").getByRole("link", { name: "Suspicious PowerShell Download Cradle" }).click();
  await expect(page.locator("#rule-proof")).toHaveAttribute("data-proof", "proven");
  await page.goto("/matrix?rules=proven", { waitUntil: "networkidle" });
  await expect(page.locator("#filter-rules")).toHaveValue("proven");
  await expect(page.locator("#matrix-count")).toHaveText("2 techniques and sub-techniques shown");
  expect(problems).toEqual([]);
  await context.close();
});

/** A small ontology shaped like D3FEND's: T1053 creates a process, which Process Termination ends. */
const ONTOLOGY = `@prefix : <http://d3fend.mitre.org/ontologies/d3fend.owl#> .
@prefix owl: <http://www.w3.org/2002/07/owl#> .
@prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
:DigitalArtifact a owl:Class ; rdfs:label "Digital Artifact" .
:Process a owl:Class ; rdfs:label "Process" ; rdfs:subClassOf :DigitalArtifact .
:Evict a owl:Class ; rdfs:label "Evict" .
:Detect a owl:Class ; rdfs:label "Detect" .
:ProcessTermination a owl:Class ; rdfs:label "Process Termination" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :terminates ; owl:someValuesFrom :Process ] ;
    :enables :Evict ; :d3fend-id "D3-PT" ; :definition "Ending a process." .
:ProcessSpawnAnalysis a owl:Class ; rdfs:label "Process Spawn Analysis" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :analyzes ; owl:someValuesFrom :Process ] ;
    :enables :Detect ; :d3fend-id "D3-PSA" ; :definition "Watching process creation." .
:T1053 a owl:Class ; rdfs:label "Scheduled Task/Job" ; :attack-id "T1053" ;
    rdfs:subClassOf [ a owl:Restriction ; owl:onProperty :creates ; owl:someValuesFrom :Process ] .
`;

test("an admin imports D3FEND from the System panel; the technique page groups its countermeasures and a lead adds one as a remediation step", async ({
  page,
  request,
}) => {
  const login = await request.post("/api/v1/auth/login", { data: { username: "admin", password: adminPassword } });
  const headers = { Authorization: `Bearer ${(await login.json()).access_token}` };
  const problems = watchProblems(page);
  await signInAndWait(page, "admin", adminPassword);
  await page.goto("/admin/system", { waitUntil: "networkidle" });
  await expect(page.locator("#d3fend-import")).toContainText("MITRE D3FEND");
  await page.locator("#d3fend-file").setInputFiles({ name: "d3fend.ttl", mimeType: "text/turtle", buffer: Buffer.from(ONTOLOGY) });
  await page.locator("#d3fend-upload").click();
  await expect(page.locator("#job-progress")).toHaveAttribute("data-status", "succeeded", { timeout: 30_000 });
  await expect(page.locator("#job-outcome")).toContainText("2 D3FEND techniques (2 added");
  await expect(page.locator("#d3fend-history tr").first()).toHaveAttribute("data-status", "succeeded");

  await page.goto("/techniques/T1053", { waitUntil: "networkidle" });
  const section = page.locator("#technique-countermeasures");
  await expect(section.locator("h2")).toHaveText("D3FEND countermeasures (2)");
  await expect(section.locator('[data-tactic="detect"]')).toContainText("Process Spawn Analysis");
  await expect(section.locator('[data-tactic="evict"] [data-countermeasure="D3-PT"]')).toContainText("via Process");
  await section.locator('[data-countermeasure="D3-PT"] summary').click();
  await expect(section.locator('[data-countermeasure="D3-PT"]')).toContainText("Process (creates / terminates)");

  const test = await (
    await request.post("/api/v1/tests", { headers, data: { title: "Scheduled task persistence", technique_id: "T1053" } })
  ).json();
  await page.goto(`/tests/${test.id}`, { waitUntil: "networkidle" });
  await page.locator("#tab-remediation").click();
  await page.locator("#add-countermeasure").selectOption("D3-PT");
  const step = page.locator('#remediation-steps li[data-step="D3-PT Process Termination (Evict)"]');
  await expect(step).toHaveCount(1);
  await page.locator('#remediation-form button[type="submit"]').click();
  await expect
    .poll(async () => (await (await request.get(`/api/v1/tests/${test.id}`, { headers })).json()).remediation_steps.length)
    .toBe(1);
  const saved = await (await request.get(`/api/v1/tests/${test.id}`, { headers })).json();
  expect(saved.remediation_steps[0].title).toBe("D3-PT Process Termination (Evict)");
  expect(saved.remediation_steps[0].notes).toContain("Linked through Process");
  expect(problems).toEqual([]);
});
