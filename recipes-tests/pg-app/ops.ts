// pg-app's data lives in PostgreSQL behind the app's HTTP API: the hooks write rows through it.
export { preBackup, preRestore, preUpgrade } from "../_lib/rows-app";
