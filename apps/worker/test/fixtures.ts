/** The results.json fixtures live with the report they feed (one copy: packages/report/test). */
export { results, tier } from "../../../packages/report/test/fixtures";
