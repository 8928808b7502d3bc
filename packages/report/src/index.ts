export * from "./check-run";
export * from "./cli-table";
export * from "./comment";
export * from "./dashboard";
export * from "./fit";
export * from "./html";
export * from "./model";
export * from "./sweep-table";
