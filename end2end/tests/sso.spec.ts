import { expect, test } from "@playwright/test";
import * as crypto from "node:crypto";
import * as http from "node:http";
import { oidcClientId, oidcClientSecret, oidcPort } from "../playwright.config";
import { watchProblems } from "./helpers";

// A small OpenID Connect provider with a real login page: discovery, JWKS, the code flow with
// PKCE (checked at the token endpoint), RS256 ID tokens with a groups claim, and sign-out.
const issuer = `http://127.0.0.1:${oidcPort}`;
const { privateKey, publicKey } = crypto.generateKeyPairSync("rsa", { modulusLength: 2048 });
const jwk = { ...publicKey.export({ format: "jwk" }), kid: "e2e", use: "sig", alg: "RS256" };
const people: Record<string, { password: string; sub: string; groups: string[]; name: string }> = {
  grace: { password: "grace-idp-password", sub: "sub-grace", groups: ["staff", "red-leads"], name: "Grace Hopper" },
};
type Grant = { redirectUri: string; nonce: string; challenge: string; person: string };
const grants = new Map<string, Grant>();
const signOuts: string[] = [];

const b64url = (data: Buffer | string) => Buffer.from(data).toString("base64url");
function idToken(claims: Record<string, unknown>): string {
  const head = b64url(JSON.stringify({ alg: "RS256", typ: "JWT", kid: "e2e" }));
  const body = b64url(JSON.stringify(claims));
  const signature = crypto.createSign("RSA-SHA256").update(`${head}.${body}`).sign(privateKey);
  return `${head}.${body}.${b64url(signature)}`;
}

async function readForm(req: http.IncomingMessage): Promise<URLSearchParams> {
  let body = "";
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

const escape = (s: string) => s.replace(/[&"<>]/g, (c) => `&#${c.charCodeAt(0)};`);

let provider: http.Server;

test.beforeAll(async () => {
  provider = http.createServer(async (req, res) => {
    const url = new URL(req.url ?? "/", issuer);
    const json = (status: number, value: unknown) => {
      res.writeHead(status, { "content-type": "application/json" });
      res.end(JSON.stringify(value));
    };
    if (url.pathname === "/.well-known/openid-configuration") {
      return json(200, {
        issuer,
        authorization_endpoint: `${issuer}/authorize`,
        token_endpoint: `${issuer}/token`,
        jwks_uri: `${issuer}/jwks`,
        end_session_endpoint: `${issuer}/logout`,
        response_types_supported: ["code"],
        subject_types_supported: ["public"],
        id_token_signing_alg_values_supported: ["RS256"],
        code_challenge_methods_supported: ["S256"],
      });
    }
    if (url.pathname === "/jwks") return json(200, { keys: [jwk] });
    if (url.pathname === "/authorize" && req.method === "GET") {
      const hidden = [...url.searchParams]
        .map(([k, v]) => `<input type="hidden" name="${escape(k)}" value="${escape(v)}">`)
        .join("");
      res.writeHead(200, { "content-type": "text/html" });
      return res.end(`<!DOCTYPE html><title>Test IdP</title><h1>Test IdP sign-in</h1>
        <form method="post" action="/authorize">${hidden}
          <label>IdP username <input name="idp_username"></label>
          <label>IdP password <input name="idp_password" type="password"></label>
          <button type="submit">Continue</button></form>`);
    }
    if (url.pathname === "/authorize" && req.method === "POST") {
      const form = await readForm(req);
      const who = form.get("idp_username") ?? "";
      if (people[who]?.password !== form.get("idp_password") || form.get("client_id") !== oidcClientId) {
        res.writeHead(401, { "content-type": "text/html" });
        return res.end("<p>Wrong username or password</p>");
      }
      const code = crypto.randomUUID();
      grants.set(code, {
        redirectUri: form.get("redirect_uri") ?? "",
        nonce: form.get("nonce") ?? "",
        challenge: form.get("code_challenge") ?? "",
        person: who,
      });
      const back = new URL(form.get("redirect_uri") ?? "");
      back.searchParams.set("code", code);
      back.searchParams.set("state", form.get("state") ?? "");
      res.writeHead(302, { location: back.toString() });
      return res.end();
    }
    if (url.pathname === "/token" && req.method === "POST") {
      const form = await readForm(req);
      const basic = Buffer.from((req.headers.authorization ?? "").replace(/^Basic /, ""), "base64").toString();
      if (basic !== `${oidcClientId}:${oidcClientSecret}`) return json(401, { error: "invalid_client" });
      const grant = grants.get(form.get("code") ?? "");
      grants.delete(form.get("code") ?? "");
      const verifier = form.get("code_verifier") ?? "";
      const pkce = b64url(crypto.createHash("sha256").update(verifier).digest());
      if (!grant || pkce !== grant.challenge || form.get("redirect_uri") !== grant.redirectUri) {
        return json(400, { error: "invalid_grant" });
      }
      const person = people[grant.person];
      const now = Math.floor(Date.now() / 1000);
      return json(200, {
        access_token: crypto.randomUUID(),
        token_type: "Bearer",
        expires_in: 300,
        id_token: idToken({
          iss: issuer, aud: oidcClientId, sub: person.sub, iat: now, exp: now + 300, nonce: grant.nonce,
          preferred_username: grant.person, name: person.name, email: `${grant.person}@example.org`,
          email_verified: true, groups: person.groups,
        }),
      });
    }
    if (url.pathname === "/logout") {
      signOuts.push(url.search);
      res.writeHead(302, { location: url.searchParams.get("post_logout_redirect_uri") ?? "/" });
      return res.end();
    }
    res.writeHead(404);
    res.end();
  });
  await new Promise<void>((resolve) => provider.listen(oidcPort, "127.0.0.1", resolve));
});

test.afterAll(async () => {
  // Aegis's HTTP client keeps idle connections open; close() alone would wait for them.
  provider.closeAllConnections();
  await new Promise<void>((resolve) => provider.close(() => resolve()));
});

// Signs in through the provider's login page and lands on the dashboard with the mapped role
// (the highest of the person's mapped groups); signing out ends the provider's session too.
test("single sign-on lands on the dashboard with the mapped role", async ({ page }) => {
  const problems = watchProblems(page);
  await page.goto("/login", { waitUntil: "networkidle" });
  const sso = page.locator("#sso-login");
  await expect(sso).toHaveText("Sign in with Test IdP");
  // Password sign-in stays beside it (AEGIS_PASSWORD_SIGN_IN is not set here).
  await expect(page.getByLabel("Username")).toBeVisible();
  await sso.click();

  await expect(page.getByRole("heading", { name: "Test IdP sign-in" })).toBeVisible();
  await page.getByLabel("IdP username").fill("grace");
  await page.getByLabel("IdP password").fill("grace-idp-password");
  await page.getByRole("button", { name: "Continue" }).click();

  await page.waitForURL((url) => url.pathname === "/");
  await expect(page.locator("#current-user")).toHaveText("Grace Hopper");
  await expect(page.locator("#current-role")).toHaveText("Red Team Lead");

  await page.locator("#logout").click();
  await page.waitForURL((url) => url.pathname === "/login");
  expect(signOuts).toHaveLength(1);
  expect(signOuts[0]).toContain(`client_id=${oidcClientId}`);
  // Signed out here as well: the dashboard asks for a sign-in again.
  await page.goto("/");
  await expect(page).toHaveURL(/\/login/);

  // A refused sign-in explains itself on the login page.
  await page.goto("/login?sso_error=no_role");
  await expect(page.locator("#sso-error")).toContainText("in no group that has access to Aegis");
  expect(problems).toEqual([]);
});
