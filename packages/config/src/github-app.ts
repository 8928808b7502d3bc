/**
 * GitHub as an App: its id and private key (inline, or from a file such as a swarm secret), and
 * how runs are shown (check runs need the App). A token and an App together is refused rather
 * than one silently winning: which identity comments on PRs must never be a guess.
 */
import { readFileSync } from "node:fs";
import type { VariableName } from "./schema";

export interface GithubAppConfig {
  appId: string;
  /** PEM. */
  privateKey: string;
}

type Read = (name: VariableName) => string | undefined;
type Problem = (name: VariableName, message: string) => void;

export function readGithubApp(
  opt: Read,
  problem: Problem,
): { app?: GithubAppConfig; report: "checks" | "statuses" } {
  const appId = opt("TASTER_GITHUB_APP_ID");
  const privateKey = privateKeyOf(opt, problem);
  const token = opt("TASTER_GITHUB_TOKEN");
  if (appId && token)
    problem(
      "TASTER_GITHUB_APP_ID",
      "a GitHub App and TASTER_GITHUB_TOKEN are both set: keep one (the App gives check runs)",
    );
  if (appId && !privateKey)
    problem(
      "TASTER_GITHUB_APP_ID",
      "the App's private key is missing: set TASTER_GITHUB_APP_PRIVATE_KEY_FILE",
    );
  if (!appId && privateKey)
    problem("TASTER_GITHUB_APP_PRIVATE_KEY", "a private key without TASTER_GITHUB_APP_ID: set the App's id");
  const app = appId && privateKey ? { appId, privateKey } : undefined;
  const wanted = opt("TASTER_GITHUB_REPORT") ?? "auto";
  if (wanted === "checks" && !app)
    problem("TASTER_GITHUB_REPORT", "check runs need a GitHub App (the Checks API refuses personal tokens)");
  const report = wanted === "auto" ? (app ? "checks" : "statuses") : (wanted as "checks" | "statuses");
  return { ...(app ? { app } : {}), report };
}

function privateKeyOf(opt: Read, problem: Problem): string | undefined {
  const inline = opt("TASTER_GITHUB_APP_PRIVATE_KEY");
  const file = opt("TASTER_GITHUB_APP_PRIVATE_KEY_FILE");
  if (inline && file) {
    problem(
      "TASTER_GITHUB_APP_PRIVATE_KEY_FILE",
      "the private key is given twice: keep the file or the variable",
    );
    return undefined;
  }
  let pem = inline?.replace(/\\n/g, "\n");
  if (file) {
    try {
      pem = readFileSync(file, "utf8");
    } catch (error) {
      problem(
        "TASTER_GITHUB_APP_PRIVATE_KEY_FILE",
        `cannot read it: ${(error as NodeJS.ErrnoException).code ?? error}`,
      );
      return undefined;
    }
  }
  if (pem !== undefined && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(pem)) {
    const name = file ? "TASTER_GITHUB_APP_PRIVATE_KEY_FILE" : "TASTER_GITHUB_APP_PRIVATE_KEY";
    problem(name, "is not a PEM private key (the .pem file GitHub generates for the App)");
    return undefined;
  }
  return pem?.trim();
}
