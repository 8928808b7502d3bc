export * from "./errors";
export * from "./ids";
export * from "./log";
export * from "./redact";
export * from "./tiers";
