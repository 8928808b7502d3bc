/**
 * Approval that pins what runs (issue 12, finding 2): approved repo-local code reaching for code
 * its pin does not cover — configuration at the recipe's root, an import out of tests/taster, a
 * symlink — must not get any of it run, and each run must say why.
 */
import { execFileSync } from "node:child_process";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Results } from "@taster/harness";
import { verdictOf } from "../../invariants";
import { ATTEMPTS, PinBypass } from "../../variants/pin-bypass";
import type { World } from "../../world";
import { COMMAND, type Scenario } from "../scenario";

let bypass: PinBypass | undefined;

/** What each attempt must end as, and the words its run must use to say why. */
const EXPECTED: Record<string, { state: string; says: RegExp; where: (r: Results) => string }> = {
  config: {
    state: "done",
    says: /pass tests\/taster\/install\.test\.ts/,
    where: (r) => r.tiers.install.tests.map((t) => `${t.status} ${t.file}`).join("\n"),
  },
  import: {
    state: "failed",
    says: /import '\.\.\/\.\.\/lib\/evil\.ts' in tests\/taster resolves outside the approved tree/,
    where: (r) => r.tiers.install.tests.map((t) => t.failure ?? "").join("\n"),
  },
  symlink: {
    state: "done",
    says: /tests\/taster\/helper\.ts is a symlink/,
    where: (r) => r.manifest?.repoLocal.why ?? "",
  },
};

const pinBypass: Scenario = {
  id: "pin-bypass",
  did: "three approved pins (PRs #1–#3) whose code reaches past its tree: .swcrc / babel.config.js / jest.config.js / package.json jest key at the recipe root and a file beside tests/taster; an import of ../../lib/evil.ts; a symlink tests/taster/helper.ts → ../../lib/evil.ts",
  expected:
    "no injected code runs (its markers stay absent; the config PR's own test runs and sees neither); the import fails install naming it; the symlink PR runs no repo-local code and says why; one verdict per PR, zero residue",
  expect: { verdicts: 1, prs: ATTEMPTS.length },
  async setup() {
    const markers = await mkdtemp(join(tmpdir(), "chaos-pin-markers-"));
    // Writable by any sandbox uid: injected code that did run could leave its marker.
    execFileSync("chmod", ["1777", markers]);
    bypass = new PinBypass(markers);
    return { world: bypass.world(), cleanup: () => rm(markers, { recursive: true, force: true }) };
  },
  async run(world) {
    const pins = bypass as PinBypass;
    for (const [pr, sha] of pins.heads) await world.setHead(pr, sha);
    for (const attempt of ATTEMPTS) {
      const id = world.addComment(COMMAND, attempt.pr);
      await world.deliver(id, COMMAND, `pin-${attempt.name}-${world.tag}`, attempt.pr);
    }
    const problems: string[] = [];
    const seen: string[] = [];
    for (const attempt of ATTEMPTS) {
      const { state, results } = await outcome(world, attempt.pr);
      const expected = EXPECTED[attempt.name] as (typeof EXPECTED)[string];
      if (state !== expected.state)
        problems.push(`${attempt.name}: the run ended ${state}, not ${expected.state}`);
      const said = results ? expected.where(results) : "";
      if (!expected.says.test(said)) problems.push(`${attempt.name}: the run does not say ${expected.says}`);
      seen.push(`${attempt.name} ${state}`);
    }
    const left = await readdir(pins.markers);
    const ran = ATTEMPTS.flatMap((a) => a.forbidden).filter((m) => left.includes(m));
    if (ran.length) problems.push(`injected code ran: ${ran.join(", ")}`);
    // The control: the config PR's own test wrote here, so an absent marker means "did not run".
    if (!left.includes("seen-config")) problems.push("the config PR's test left no control marker");
    return {
      observed: `${seen.join("; ")}; markers: ${left.sort().join(", ") || "none"}`,
      problems,
    };
  },
};

async function outcome(world: World, pr: number) {
  const state = await verdictOf(world, 400_000, pr);
  const sha = world.stack.sim.state.repos.get(world.stack.repo)?.pulls.get(pr)?.headSha;
  const run = (await world.stack.worker.runs.listRuns()).find((r) => r.job.pr === pr && r.job.sha === sha);
  return { state, results: run?.result as Results | undefined };
}

export const SCENARIOS: Scenario[] = [pinBypass];
