export * from "./config";
export * from "./forge";
export * from "./level-notice";
export * from "./probe-image";
export * from "./recipe-source";
export * from "./report";
export * from "./sweep-job";
export * from "./worker";
