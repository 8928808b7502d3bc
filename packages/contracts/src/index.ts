export * from "./job";
export * from "./results";
export * from "./status";
export * from "./sweep";
