import { errorMessage } from "@taster/core";
import type { RunRecord } from "@taster/queue";
import { type Request, type Response, Router } from "express";
import { type BadgeStatus, renderBadge } from "./badge";
import { isInFlight, latestVerdict, RECIPE_NAME, recipeRuns } from "./history";
import { renderHome } from "./home";
import { html } from "./html";
import { page } from "./layout";
import { LiveLogHub } from "./live-follow";
import { LiveLogAdmission } from "./live-limits";
import { type LiveLogDeps, sendLogText, sseEvent, streamLog } from "./live-log";
import type { DashboardOptions } from "./options";
import { FORGE_NAME, PR_NUMBER, REPO_PART, renderPullPage } from "./pr-page";
import { renderRecipePage } from "./recipe-page";
import { renderRunPage } from "./run-page";
import { renderSweepsPage } from "./sweeps-page";
import { scrub } from "./view";

/** Run ids are [a-z0-9-] (see RunJobSchema); anything else cannot be a run and never reaches Redis. */
const RUN_ID = /^[a-z0-9][a-z0-9-]{0,127}$/;

/**
 * The dashboard: queue, runs, recipe history, live logs and badges, all server-rendered HTML that
 * works without JavaScript except for following a live log.
 */
export function dashboardRouter(options: DashboardOptions): Router {
  const router = Router();
  const redact = (text: string) => options.redactor?.redact(text) ?? text;
  const render = (entry: { id: string; line: string }) => sseEvent(entry.id, redact(entry.line));
  const hub = new LiveLogHub({
    runs: options.runs,
    logs: options.logs,
    blockMs: options.livePollMs ?? 500,
    render,
  });
  const live: LiveLogDeps = {
    runs: options.runs,
    logs: options.logs,
    hub,
    render,
    maxStreamMs: options.liveLog?.maxStreamMs ?? 10 * 60_000,
    redactor: options.redactor,
    signal: options.signal,
  };
  const admission = new LiveLogAdmission({
    maxClients: options.liveLog?.maxClients ?? 1_000,
    maxPerAddress: options.liveLog?.maxPerAddress ?? 20,
  });
  options.signal?.addEventListener("abort", () => hub.close(), { once: true });

  // Values are redacted before they are escaped into a page (see view.ts, scrub); this second pass
  // over the finished page only catches what a future renderer might forget to scrub.
  const sendPage = (res: Response, status: number, body: string) => {
    res.status(status).type("html").set("Cache-Control", "no-cache").send(redact(body));
  };
  const notFound = (res: Response, what: string) =>
    sendPage(
      res,
      404,
      page("Not found", html`<h1>Not found</h1><p>${what}</p><p><a href="/">Back to the queue</a></p>`),
    );

  /** Pages fail as a readable 503 when Redis is away, never as a stack trace. */
  const handle =
    (work: (req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      try {
        await work(req, res);
      } catch (error) {
        if (res.headersSent) {
          res.end();
          return;
        }
        sendPage(
          res,
          503,
          page(
            "Unavailable",
            html`<h1>Taster cannot read its run store right now</h1><p class="muted">${redact(errorMessage(error))}</p><p>Try again in a moment.</p>`,
          ),
        );
      }
    };

  const runId = (req: Request) => {
    const id = String(req.params.id ?? "");
    return RUN_ID.test(id) ? id : undefined;
  };

  router.get(
    "/",
    handle(async (_req, res) => sendPage(res, 200, await renderHome(options))),
  );

  router.get(
    "/runs/:id",
    handle(async (req, res) => {
      const id = runId(req);
      const body = id ? await renderRunPage(options, id) : undefined;
      if (body) sendPage(res, 200, body);
      else notFound(res, `There is no run "${redact(String(req.params.id))}".`);
    }),
  );

  router.get(
    "/runs/:id/results.json",
    handle(async (req, res) => {
      const id = runId(req);
      const run = id ? await options.runs.getRun(id) : undefined;
      if (!run) {
        res.status(404).json({ error: "no such run" });
        return;
      }
      if (run.result === undefined) {
        res.status(404).json({ error: "this run has no results yet", state: run.state });
        return;
      }
      res
        .type("json")
        .set("X-Content-Type-Options", "nosniff")
        // Redacted before JSON escaping (a secret with a quote or backslash reads differently after).
        .send(JSON.stringify(scrub(options, run.result), null, 2));
    }),
  );

  const withRun =
    (then: (run: RunRecord, req: Request, res: Response) => Promise<void>) =>
    async (req: Request, res: Response): Promise<void> => {
      const id = runId(req);
      const run = id ? await options.runs.getRun(id) : undefined;
      if (!run) {
        res
          .status(404)
          .type("text")
          .send(`There is no run "${redact(String(req.params.id))}".\n`);
        return;
      }
      await then(run, req, res);
    };

  router.get("/runs/:id/log.txt", handle(withRun((run, _req, res) => sendLogText(live, run.runId, res))));

  /**
   * A live stream holds a socket for as long as the run goes: it takes a place within the limits
   * first, before any Redis work, and a client over them gets a clear 429/503 with the reason.
   */
  const followLog = async (req: Request, res: Response): Promise<void> => {
    const place = admission.admit(req.ip ?? req.socket.remoteAddress ?? "unknown");
    if (!place.ok) {
      res.status(place.status).set("Retry-After", "30").type("text").send(`${place.reason}\n`);
      return;
    }
    try {
      await withRun((run, req, res) => streamLog(live, run, req, res))(req, res);
    } finally {
      place.release();
    }
  };

  // EventSource asks for text/event-stream; a person following the "full log" link gets plain text.
  router.get(
    "/runs/:id/log",
    handle((req, res) =>
      req.get("accept")?.includes("text/event-stream")
        ? followLog(req, res)
        : withRun((run, _req, res) => sendLogText(live, run.runId, res))(req, res),
    ),
  );

  router.get(
    "/recipes",
    handle(async (_req, res) => sendPage(res, 200, renderSweepsPage((await options.sweeps?.recent()) ?? []))),
  );

  router.get(
    "/recipes/:name",
    handle(async (req, res) => {
      const name = String(req.params.name ?? "");
      const body = RECIPE_NAME.test(name) ? await renderRecipePage(options, name) : undefined;
      if (body) sendPage(res, 200, body);
      else notFound(res, `Taster has no runs of a recipe called "${redact(name)}".`);
    }),
  );

  router.get(
    "/prs/:forge/:owner/:repo/:pr",
    handle(async (req, res) => {
      const { forge = "", owner = "", repo = "", pr = "" } = req.params as Record<string, string>;
      const valid =
        FORGE_NAME.test(forge) && REPO_PART.test(owner) && REPO_PART.test(repo) && PR_NUMBER.test(pr);
      const ref = { forge, repo: `${owner}/${repo}`, pr: Number(pr) };
      const body = valid ? await renderPullPage(options, ref) : undefined;
      if (body) sendPage(res, 200, body);
      else notFound(res, `Taster has no runs of pull request ${redact(`${owner}/${repo}#${pr}`)}.`);
    }),
  );

  router.get(
    "/badges/:recipe.svg",
    handle(async (req, res) => {
      const name = String(req.params.recipe ?? "");
      if (!RECIPE_NAME.test(name)) {
        res.status(404).type("text").send("not a recipe name\n");
        return;
      }
      const swept = (await options.sweeps?.recent(1))?.[0]?.recipes.find((r) => r.recipe === name);
      const history = swept ? [] : await recipeRuns(options.runs, name, options.historyScan ?? 500);
      const verdict = latestVerdict(history);
      // A swept recipe's badge is its sweep's level (the release as shipped); else its latest run's.
      const status: BadgeStatus = swept
        ? { level: swept.level }
        : verdict
          ? { level: verdict.level }
          : history.some(isInFlight)
            ? "running"
            : "no runs";
      res
        .type("image/svg+xml")
        // Short: READMEs should show a new level within a minute; forges' image proxies honour this.
        .set("Cache-Control", "max-age=60, s-maxage=60, must-revalidate")
        .send(renderBadge(status));
    }),
  );

  return router;
}
