/** The escaping template tag is @taster/report's (its dashboard renderer builds on it). */
export { escapeHtml, html, SafeHtml, trusted } from "@taster/report";
