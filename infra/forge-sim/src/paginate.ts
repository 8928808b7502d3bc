import type { Request, Response } from "express";

/** GitHub-style (page/per_page + Link header) and Gitea-style (page/limit) pagination. */
export function paginate<T>(req: Request, res: Response, items: T[]): void {
  const perPage = Math.max(1, Math.min(100, Number(req.query.per_page ?? req.query.limit ?? 30) || 30));
  const page = Math.max(1, Number(req.query.page ?? 1) || 1);
  const slice = items.slice((page - 1) * perPage, page * perPage);
  if (page * perPage < items.length) {
    const next = new URL(`${req.protocol}://${req.get("host")}${req.originalUrl}`);
    next.searchParams.set("page", String(page + 1));
    res.set("link", `<${next.toString()}>; rel="next"`);
  }
  res.set("x-total-count", String(items.length));
  res.json(slice);
}
