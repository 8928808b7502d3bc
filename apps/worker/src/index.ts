export * from "./config";
export * from "./forge";
export * from "./outbox";
export * from "./report";
export * from "./worker";
