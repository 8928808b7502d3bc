// warm-pg's data lives in PostgreSQL behind the app's HTTP API: the upgrade hook writes a row through it.
export { preUpgrade } from "../_lib/rows-app";
