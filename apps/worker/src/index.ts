export * from "./config";
export * from "./forge";
export * from "./probe-image";
export * from "./report";
export * from "./worker";
