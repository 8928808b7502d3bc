import { escapeHtml } from "./html";
import { GREY, LEVEL_COLOURS } from "./view";

export type BadgeStatus = { level: number } | "running" | "no runs";

/** Verdana 11px advance widths are close to this for the few short words a badge holds. */
const charWidth = (c: string) => (/[A-Z0-9]/.test(c) ? 7.5 : /[ilj.]/.test(c) ? 3.5 : 6.5);
const textWidth = (text: string) => Math.round([...text].reduce((sum, c) => sum + charWidth(c), 0));

/** A shields.io-style flat badge: "taster | L3" coloured by level, grey while there is no level. */
export function renderBadge(status: BadgeStatus): string {
  const label = "taster";
  const value = typeof status === "object" ? `L${status.level}` : status;
  const colour = typeof status === "object" ? (LEVEL_COLOURS[status.level] ?? GREY) : GREY;
  const lw = textWidth(label) + 10;
  const vw = textWidth(value) + 10;
  const w = lw + vw;
  const text = escapeHtml(value);
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${w}" height="20" role="img" aria-label="${label}: ${text}">
<title>${label}: ${text}</title>
<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/><stop offset="1" stop-opacity=".1"/></linearGradient>
<clipPath id="r"><rect width="${w}" height="20" rx="3" fill="#fff"/></clipPath>
<g clip-path="url(#r)"><rect width="${lw}" height="20" fill="#555"/><rect x="${lw}" width="${vw}" height="20" fill="${colour}"/><rect width="${w}" height="20" fill="url(#s)"/></g>
<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">
<text x="${lw / 2}" y="15" fill="#010101" fill-opacity=".3">${label}</text><text x="${lw / 2}" y="14">${label}</text>
<text x="${lw + vw / 2}" y="15" fill="#010101" fill-opacity=".3">${text}</text><text x="${lw + vw / 2}" y="14">${text}</text>
</g>
</svg>
`;
}
