export * from "./config";
export * from "./forge";
export * from "./report";
export * from "./worker";
