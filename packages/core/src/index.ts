export * from "./child-env";
export * from "./errors";
export * from "./ids";
export * from "./log";
export * from "./markdown";
export * from "./redact";
export * from "./redact-deep";
export * from "./tiers";
