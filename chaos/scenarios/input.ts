/** Deliveries: duplicated, hostile, and racing the reconciler. */
import { Reconciler } from "@taster/bridge";
import { createLogger } from "@taster/core";
import { GithubForge } from "@taster/forge";
import { signGithub } from "@taster/forge-sim";
import { verdictOf } from "../invariants";
import { COMMAND, type Scenario, tally } from "./scenario";

const duplicates: Scenario = {
  id: "duplicate-deliveries",
  did: "one !testme delivered 20× concurrently with the same delivery id",
  expected: "one run, one verdict",
  expect: { verdicts: 1 },
  async run(world) {
    const id = world.addComment(COMMAND);
    const answers = await Promise.all(
      Array.from({ length: 20 }, () => world.deliver(id, COMMAND, `dup-${world.tag}`)),
    );
    const statuses = tally(answers.map((a) => a.status));
    const state = await verdictOf(world);
    const problems = answers.every((a) => a.status === 202) ? [] : [`answers ${statuses}`];
    return { observed: `answers ${statuses}; run ${state}`, problems };
  },
};

const hostile: Scenario = {
  id: "hostile-input",
  did: "forged signature, malformed JSON, 2 MB body, <script>, 1 MB backticks, NUL bytes, !testme in a code block",
  expected: "4xx or ignored, nothing queued, bridge healthy",
  expect: { verdicts: 0 },
  async run(world) {
    const { stack } = world;
    const secret = stack.bridge.config.github?.webhookSecrets[0] ?? "";
    const url = `${stack.bridgeUrl}/webhooks/github`;
    const post = async (body: string, signature: string) => {
      const res = await fetch(url, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-github-event": "issue_comment",
          "x-github-delivery": `hostile-${Math.random().toString(36).slice(2)}`,
          "x-hub-signature-256": signature,
        },
        body,
      });
      await res.text();
      return res.status;
    };
    const problems: string[] = [];
    const seen: string[] = [];
    const expectStatus = (what: string, status: number, ok: (s: number) => boolean) => {
      seen.push(`${what} ${status}`);
      if (!ok(status)) problems.push(`${what} answered ${status}`);
    };
    const is4xx = (s: number) => s >= 400 && s < 500;
    const ignoredOr4xx = (s: number) => s === 200 || is4xx(s);

    const legit = JSON.stringify({ hello: "world" });
    expectStatus("forged", await post(legit, signGithub("not-the-secret", legit)), (s) => s === 401);
    const malformed = '{"action": "created", "comment": ';
    expectStatus("malformed", await post(malformed, signGithub(secret, malformed)), is4xx);
    const huge = JSON.stringify({ pad: "x".repeat(2 * 1024 * 1024) });
    expectStatus("oversized", await post(huge, signGithub(secret, huge)), (s) => s === 413);
    const texts: [string, string][] = [
      ["script", "<script>fetch('/webhooks/github?!testme')</script>\n<img src=x onerror=alert(1)>"],
      ["backticks", "`".repeat(1024 * 1024)],
      ["nul", "!test\u0000me\n\u0000!testme\u0000"],
      ["codeblock", "```\n!testme\n```"],
    ];
    for (const [what, body] of texts) {
      const id = world.addComment(body);
      expectStatus(
        what,
        (await world.deliver(id, body, `hostile-${what}-${world.tag}`)).status,
        ignoredOr4xx,
      );
    }
    await world.settled();
    const ready = await fetch(`${stack.bridgeUrl}/readyz`);
    if (ready.status !== 200) problems.push(`/readyz answered ${ready.status} afterwards`);
    return { observed: `${seen.join(", ")}; readyz ${ready.status}`, problems };
  },
};

const webhookAndReconciler: Scenario = {
  id: "webhook-and-reconciler",
  did: "one !testme found by the reconciler, then its late webhook racing 2 more passes, then another pass",
  expected: "one run, one verdict",
  expect: { verdicts: 1 },
  async run(world) {
    const { stack } = world;
    const config = stack.bridge.config;
    const forge = new GithubForge({
      token: config.github?.token ?? "",
      baseUrl: config.github?.apiUrl ?? "",
      botLogin: config.botLogin,
      trust: { ...config.trust, triggerers: [] },
    });
    const logger = createLogger("chaos-reconciler");
    logger.level = "silent";
    const reconciler = new Reconciler(
      [{ forge: "github", repo: stack.repo }],
      { github: forge },
      stack.bridge.intake,
      stack.bridge.queues,
      stack.bridge.metrics,
      logger,
      3_600,
    );
    // The webhook is "lost" at first: the reconciler finds the comment, then GitHub's late
    // delivery and further passes (some concurrent) race the run that is already going.
    const id = world.addComment(COMMAND);
    const first = await reconciler.reconcile();
    const [late, ...passes] = await Promise.all([
      world.deliver(id, COMMAND, `webhook-${world.tag}`),
      reconciler.reconcile(),
      reconciler.reconcile(),
    ]);
    const state = await verdictOf(world);
    const after = await reconciler.reconcile();
    await world.settled();
    const outcome = (JSON.parse(late.body) as { outcome?: string }).outcome;
    const problems: string[] = [];
    if (first.recovered !== 1) problems.push(`the first reconciler pass recovered ${first.recovered}, not 1`);
    if (outcome !== "duplicate") problems.push(`the late webhook was ${outcome}, not a duplicate`);
    const recovered = [first, ...passes, after].map((p) => p.recovered).join("/");
    return {
      observed: `reconciler passes recovered ${recovered}; late webhook ${late.status} ${outcome}; run ${state}`,
      problems,
    };
  },
};

export const INPUT_SCENARIOS: Scenario[] = [duplicates, hostile, webhookAndReconciler];
