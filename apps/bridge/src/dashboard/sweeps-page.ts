/**
 * The recipes page (`/recipes`): every recipe of the recent sweeps with its latest level and
 * version, last sweep time, a level sparkline over the sweeps (inline SVG, oldest → newest) and
 * its flake rate (failed tiers classified flake / failed tiers triaged).
 */
import type { Sweep, SweepRow } from "@taster/contracts";
import { html, type SafeHtml } from "./html";
import { page } from "./layout";
import { levelChip, levelSparkline } from "./view";

export interface RecipeSummary {
  recipe: string;
  latest: SweepRow;
  sweptAt: string;
  /** Levels over the sweeps that had the recipe, oldest first. */
  levels: number[];
  flakes: number;
  triaged: number;
}

/** Sweeps newest first (as the store gives them) → one summary per recipe, by name. */
export function summarise(sweeps: readonly Sweep[]): RecipeSummary[] {
  const byRecipe = new Map<string, RecipeSummary>();
  for (const sweep of [...sweeps].reverse()) {
    for (const row of sweep.recipes) {
      const s = byRecipe.get(row.recipe) ?? {
        recipe: row.recipe,
        latest: row,
        sweptAt: sweep.finishedAt,
        levels: [],
        flakes: 0,
        triaged: 0,
      };
      s.latest = row;
      s.sweptAt = sweep.finishedAt;
      s.levels.push(row.level);
      for (const tier of Object.values(row.tiers)) {
        if (!tier.classification) continue;
        s.triaged += 1;
        if (tier.classification === "flake") s.flakes += 1;
      }
      byRecipe.set(row.recipe, s);
    }
  }
  return [...byRecipe.values()].sort((a, b) => a.recipe.localeCompare(b.recipe));
}

/** Levels 0–4 over the sweeps, small: a dot per sweep in its level's colour. */
export function sparkline(levels: readonly number[]): SafeHtml {
  const label = `levels over the last ${levels.length} sweep(s): ${levels.map((l) => `L${l}`).join(" ")}`;
  const width = Math.max(1, levels.length - 1) * 12 + 8;
  return levelSparkline(levels, { className: "spark", width, height: 28, dot: 2.5, label });
}

const percent = (s: RecipeSummary) =>
  s.triaged === 0 ? "–" : `${Math.round((100 * s.flakes) / s.triaged)}% (${s.flakes}/${s.triaged})`;

export function renderSweepsPage(sweeps: readonly Sweep[]): string {
  const rows = summarise(sweeps);
  const body = rows.length
    ? html`<table>
<thead><tr><th>recipe</th><th>level</th><th>version</th><th>verdict</th><th>last sweep</th><th>levels</th><th>flake rate</th><th>badge</th></tr></thead>
<tbody>${rows.map(
        (r) => html`<tr>
<td><a href="/recipes/${r.recipe}">${r.recipe}</a></td>
<td>${levelChip(r.latest.level)}</td>
<td><code>${r.latest.version ?? "no release"}</code></td>
<td class="${r.latest.verdict}">${r.latest.verdict.toUpperCase()}${r.latest.classification ? ` (${r.latest.classification})` : ""}</td>
<td class="muted">${r.sweptAt.replace("T", " ").slice(0, 16)} UTC</td>
<td>${sparkline(r.levels)}</td>
<td>${percent(r)}</td>
<td><img alt="badge of ${r.recipe}" src="/badges/${r.recipe}.svg"></td>
</tr>`,
      )}</tbody></table>`
    : html`<p class="muted">No sweep has run yet: <code>taster sweep</code>, or the workers' scheduled sweep (docs/sweep.md).</p>`;
  return page(
    "Recipes",
    html`<h1>Recipes</h1><p class="muted">Every recipe at its newest release, as the last ${sweeps.length} sweep(s) found it.</p>${body}`,
  );
}
