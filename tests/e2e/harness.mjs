// Starts a real stepwasm server (the `demo` main job, which deploys the sample functions and both
// order pipelines) and a headless Chromium from the system, and cleans both up.
//
// Environment:
//   STEPWASM_BIN        the stepwasm binary to run (the cargo test that runs these sets it)
//   STEPWASM_CHROMIUM   the Chromium to drive (default: chromium on the PATH, else /usr/bin/chromium)
//   E2E_ARTIFACTS       where screenshots go (default: a fresh temporary directory)

import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";

import { chromium } from "playwright-core";

export const artifacts = process.env.E2E_ARTIFACTS || mkdtempSync(join(tmpdir(), "stepwasm-e2e-artifacts-"));
mkdirSync(artifacts, { recursive: true });

function chromiumPath() {
  if (process.env.STEPWASM_CHROMIUM) return process.env.STEPWASM_CHROMIUM;
  for (const name of ["chromium", "chromium-browser"]) {
    try {
      return execFileSync("which", [name], { encoding: "utf8" }).trim();
    } catch {
      // Not on the PATH under this name.
    }
  }
  return "/usr/bin/chromium";
}

/** The console session of each server started here, for `aws()`. */
const sessions = new Map();

/**
 * Runs `stepwasm demo` on a free port with a fresh data directory and an access key of its own,
 * so every request must be signed or carry a session; resolves once it serves.
 */
export async function startServer() {
  const binary = process.env.STEPWASM_BIN;
  if (!binary) throw new Error("STEPWASM_BIN must name the stepwasm binary to test");
  const dataDir = mkdtempSync(join(tmpdir(), "stepwasm-e2e-data-"));
  const accessKeyId = "AKIASTEPWASME2E";
  const secretAccessKey = randomBytes(24).toString("hex");
  const keysFile = join(dataDir, "access-keys");
  writeFileSync(keysFile, `${accessKeyId} ${secretAccessKey}\n`, { mode: 0o600 });
  const child = spawn(binary, ["--data-dir", dataDir, "demo", "--listen", "127.0.0.1:0", "--access-keys-file", keysFile], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const output = [];
  child.stderr.on("data", (chunk) => output.push(chunk.toString()));
  const endpoint = await new Promise((resolve, reject) => {
    let endpoint = null;
    const timer = setTimeout(() => reject(new Error(`the demo did not start within 120 s:\n${output.join("")}`)), 120_000);
    createInterface({ input: child.stdout }).on("line", (line) => {
      output.push(line + "\n");
      const serving = line.match(/serving the AWS Step Functions API on (http:\/\/\S+)/);
      if (serving) endpoint = serving[1];
      if (line.startsWith("Serving until Ctrl-C") && endpoint) {
        clearTimeout(timer);
        resolve(endpoint);
      }
    });
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`the demo exited with ${code}:\n${output.join("")}`));
    });
  });
  const signIn = await fetch(`${endpoint}/console/api/session`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ accessKeyId, secretAccessKey }),
  });
  if (!signIn.ok) throw new Error(`signing in failed: ${await signIn.text()}`);
  sessions.set(endpoint, signIn.headers.get("set-cookie").split(";")[0]);
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    output,
    async stop() {
      child.kill("SIGTERM");
      await new Promise((resolve) => (child.exitCode === null ? child.on("exit", resolve) : resolve()));
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/**
 * A headless Chromium that stays off the network: the machines running this have none.
 * Playwright gives every launch a fresh temporary profile of its own.
 */
export async function startBrowser() {
  const browser = await chromium.launch({
    executablePath: chromiumPath(),
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
  return {
    browser,
    async stop() {
      await browser.close();
    },
  };
}

/** Calls the AWS Step Functions API of `endpoint`, with the session signed in at its start. */
export async function aws(endpoint, operation, request) {
  const response = await fetch(`${endpoint}/`, {
    method: "POST",
    headers: {
      "Content-Type": "application/x-amz-json-1.0",
      "X-Amz-Target": `AWSStepFunctions.${operation}`,
      Cookie: sessions.get(endpoint) ?? "",
    },
    body: JSON.stringify(request),
  });
  const reply = await response.json();
  if (!response.ok) throw new Error(`${operation}: ${JSON.stringify(reply)}`);
  return reply;
}

/** Signs `page` in to the console with the server's access key, through the sign-in form. */
export async function signIn(page, server) {
  await page.goto(`${server.endpoint}/console/`);
  await page.getByLabel("Access key ID").fill(server.accessKeyId);
  await page.getByLabel("Secret access key").fill(server.secretAccessKey);
  await page.getByTestId("sign-in-submit").click();
  await page.getByRole("heading", { name: "State machines" }).waitFor();
}

/** A new page of `browser`, signed in to `server` and at `path`, with its errors collected. */
export async function openSignedIn(browser, server, path, viewport) {
  const page = await browser.browser.newPage({ viewport });
  const errors = watchForPageErrors(page);
  await signIn(page, server);
  await page.goto(`${server.endpoint}${path}`);
  return { page, errors };
}

/** Collects the page's console errors and uncaught exceptions, which fail a test. */
export function watchForPageErrors(page) {
  const errors = [];
  page.on("pageerror", (error) => errors.push(`uncaught: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(`console: ${message.text()}`);
  });
  return errors;
}
