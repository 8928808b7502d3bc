export { type BadgeStatus, renderBadge } from "./badge";
export { escapeHtml, html, SafeHtml, trusted } from "./html";
export type { DashboardOptions } from "./options";
export { dashboardRouter } from "./router";
