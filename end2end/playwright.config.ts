import { defineConfig } from "@playwright/test";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";

// Every run starts a freshly built server on a fresh, empty data directory.
const port = Number(process.env.AEGIS_E2E_PORT ?? 3100);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "aegis-e2e-"));
const root = path.resolve(__dirname, "..");
const binary = process.env.AEGIS_BIN ?? path.join(root, "target", "release", "aegis");
const siteRoot = process.env.AEGIS_SITE_ROOT ?? path.join(root, "target", "site");
export const adminPassword = "e2e-admin-password-1";
// The stand-in for MITRE's TAXII server and GitHub that system-jobs.spec.ts starts.
export const mitrePort = Number(process.env.AEGIS_E2E_MITRE_PORT ?? 3199);
// The identity provider sso.spec.ts starts.
export const oidcPort = Number(process.env.AEGIS_E2E_OIDC_PORT ?? 3198);
export const oidcClientId = "aegis-e2e";
export const oidcClientSecret = "aegis-e2e-secret";
export const collectionId = "x-mitre-collection--1f5f1533-f617-4ca8-9ab4-6a02367fa019";

export default defineConfig({
  testDir: "./tests",
  fullyParallel: false,
  workers: 1,
  forbidOnly: !!process.env.CI,
  retries: 0,
  timeout: 60_000,
  reporter: [["list"]],
  outputDir: path.join(os.tmpdir(), "aegis-e2e-results"),
  use: {
    baseURL: `http://127.0.0.1:${port}`,
    trace: "retain-on-failure",
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? "/usr/bin/chromium",
      args: ["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"],
    },
  },
  webServer: {
    command: binary,
    url: `http://127.0.0.1:${port}/health`,
    reuseExistingServer: false,
    timeout: 120_000,
    stdout: "pipe",
    stderr: "pipe",
    env: {
      AEGIS_BIND: `127.0.0.1:${port}`,
      AEGIS_DATA_DIR: dataDir,
      AEGIS_SITE_ROOT: siteRoot,
      AEGIS_ADMIN_PASSWORD: adminPassword,
      RUST_LOG: process.env.RUST_LOG ?? "warn",
      AEGIS_ATTACK_TAXII_URL: `http://127.0.0.1:${mitrePort}/taxii/api/v21/`,
      AEGIS_ATTACK_COLLECTION_ID: collectionId,
      AEGIS_ATTACK_BUNDLE_URL: `http://127.0.0.1:${mitrePort}/github/enterprise-attack.json`,
      AEGIS_ATTACK_TAXII_PAGE_SIZE: "5",
      AEGIS_JOB_POLL_INTERVAL_MS: "200",
      AEGIS_HTTP_TIMEOUT_SECS: "5",
      AEGIS_OIDC_ISSUER: `http://127.0.0.1:${oidcPort}`,
      AEGIS_OIDC_CLIENT_ID: oidcClientId,
      AEGIS_OIDC_CLIENT_SECRET: oidcClientSecret,
      AEGIS_OIDC_LABEL: "Test IdP",
      AEGIS_OIDC_AUTO_CREATE: "true",
      AEGIS_OIDC_ROLE_MAP: "aegis-admins=admin,red-leads=red_lead,red=red_tech,staff=viewer",
    },
  },
});
