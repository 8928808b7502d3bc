import { html, type SafeHtml, trusted } from "./html";

const STYLE = trusted(`
  body { font: 15px/1.45 system-ui, sans-serif; margin: 0; color: #1f2328; background: #f6f8fa; }
  header.top { background: #24292f; color: #fff; padding: .6rem 1.2rem; }
  header.top a { color: #fff; text-decoration: none; font-weight: 600; }
  main { max-width: 72rem; margin: 0 auto; padding: 1rem 1.2rem 3rem; }
  h1 { font-size: 1.4rem; margin: .6rem 0; } h2 { font-size: 1.1rem; margin: 1.6rem 0 .5rem; }
  table { border-collapse: collapse; width: 100%; background: #fff; }
  th, td { text-align: left; padding: .35rem .6rem; border-bottom: 1px solid #d0d7de; vertical-align: top; }
  th { background: #eaeef2; font-weight: 600; }
  code, pre { font: 13px/1.4 ui-monospace, monospace; }
  pre { background: #0d1117; color: #e6edf3; padding: .8rem; overflow: auto; white-space: pre-wrap; word-break: break-all; }
  pre.log { max-height: 34rem; }
  .chip { display: inline-block; padding: 0 .5rem; border-radius: 1rem; color: #fff; font-size: .85rem; font-weight: 600; }
  .muted { color: #656d76; } .fail, .failed-tier { color: #cf222e; } .pass { color: #1a7f37; } .skip { color: #9a6700; }
  dl.meta { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; background: #fff; padding: .8rem; }
  dl.meta dt { color: #656d76; } dl.meta dd { margin: 0; }
`);

/** The page chrome every dashboard page shares. `refreshSec` keeps JavaScript-free views current. */
export function page(title: string, body: SafeHtml, options: { refreshSec?: number } = {}): string {
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
${options.refreshSec ? html`<meta http-equiv="refresh" content="${options.refreshSec}">` : ""}
<title>${title} · Taster</title>
<style>${STYLE}</style>
</head>
<body>
<header class="top"><a href="/">Taster</a> <span>· Co-op Cloud recipe CI</span></header>
<main>
${body}
</main>
</body>
</html>
`.value;
}
