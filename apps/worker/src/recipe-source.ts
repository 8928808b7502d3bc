/**
 * Where a job's recipe is fetched from: the forge its command came from. GitHub's web host (or a
 * GitHub Enterprise one, derived from its API URL) for GitHub runs, TASTER_GITEA_URL for Gitea runs;
 * TASTER_RECIPE_SOURCE overrides both. A payload's clone URL is taken only when it is on the
 * configured host of that forge (else ignored and logged): a webhook must never choose the server
 * the worker clones from.
 */
import { configError, recipeError, usageError } from "@taster/core";

/** owner/name as forges allow them, and never `.`/`..` or a leading `-` (no path or option tricks). */
const SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const RECIPE = /^[a-z0-9][a-z0-9_.-]*$/;

export interface SourceJob {
  forge: string;
  repo: string;
  recipe: string;
  /** The clone URL the webhook payload gave, if the bridge kept it. */
  cloneUrl?: string;
}

export interface RecipeSourceConfig {
  /** TASTER_RECIPE_SOURCE when given: a template for every forge. */
  template?: string;
  /** GitHub's API URL (TASTER_GITHUB_API_URL), when GitHub is configured. */
  githubApiUrl?: string;
  /** TASTER_GITEA_URL, when Gitea is configured. */
  giteaUrl?: string;
  /** Told when a payload's clone URL is ignored. */
  onIgnored?: (job: SourceJob, why: string) => void;
}

/** A repository name the worker will put into a URL or path, or a recipe error naming it. */
export function checkedRepo(repo: string): string {
  const parts = repo.split("/");
  if (parts.length !== 2 || !parts.every((p) => SEGMENT.test(p))) {
    throw recipeError(
      `repository name "${repo.slice(0, 100)}" is not owner/name`,
      "owner and name are letters, digits, '_', '.' and '-', not starting with '.' or '-'",
    );
  }
  return repo;
}

function checkedRecipe(recipe: string): string {
  if (!RECIPE.test(recipe)) {
    throw recipeError(`recipe name "${recipe.slice(0, 100)}" is not a plain name`);
  }
  return recipe;
}

/** GitHub's web host from its API URL: api.github.com → github.com; Enterprise: strip /api/v3. */
export function githubWebUrl(apiUrl: string): string {
  const url = new URL(apiUrl);
  if (url.hostname === "api.github.com") return "https://github.com";
  return `${url.origin}${url.pathname.replace(/\/+$/, "").replace(/\/api\/v3$/, "")}`;
}

/** Fills a TASTER_RECIPE_SOURCE template; `{repo}` and `{recipe}` are checked first. */
export function recipeSourceFrom(template: string): (job: { repo: string; recipe: string }) => string {
  if (!template.includes("{repo}") && !template.includes("{recipe}")) {
    throw usageError(`TASTER_RECIPE_SOURCE "${template}" must contain {repo} or {recipe}`);
  }
  return (job) =>
    template
      .replaceAll("{repo}", () => checkedRepo(job.repo))
      .replaceAll("{recipe}", () => checkedRecipe(job.recipe));
}

/** The base URL repos of `forge` are cloned under, or undefined when that forge is not configured. */
function baseOf(config: RecipeSourceConfig, forge: string): string | undefined {
  if (forge === "github") return config.githubApiUrl ? githubWebUrl(config.githubApiUrl) : undefined;
  if (forge === "gitea") return config.giteaUrl?.replace(/\/+$/, "");
  return undefined;
}

/** Whether `candidate` is an http(s) URL on the same origin (scheme, host, port) as `base`. */
function sameHost(candidate: string, base: string): boolean {
  try {
    const url = new URL(candidate);
    return (
      (url.protocol === "https:" || url.protocol === "http:") &&
      url.origin === new URL(base).origin &&
      !url.username &&
      !url.password
    );
  } catch {
    return false;
  }
}

/** The job's recipe source: the override template, else its forge's clone URL. */
export function recipeSources(config: RecipeSourceConfig): (job: SourceJob) => string {
  const fromTemplate = config.template ? recipeSourceFrom(config.template) : undefined;
  return (job) => {
    if (fromTemplate) return fromTemplate(job);
    const repo = checkedRepo(job.repo);
    const base = baseOf(config, job.forge);
    if (!base) {
      const fix =
        job.forge === "gitea"
          ? "TASTER_GITEA_URL and TASTER_GITEA_TOKEN"
          : "TASTER_GITHUB_TOKEN (or a GitHub App, docs/github-app.md)";
      throw configError(
        `the run came from ${job.forge}, which this worker is not configured for: set ${fix} on the worker`,
      );
    }
    const expected = `${base}/${repo}.git`;
    if (job.cloneUrl && job.cloneUrl !== expected) {
      if (sameHost(job.cloneUrl, base) && new URL(job.cloneUrl).pathname.endsWith(`/${repo}.git`))
        return job.cloneUrl;
      config.onIgnored?.(job, `clone URL not on ${new URL(base).host}; fetching ${expected}`);
    }
    return expected;
  };
}
