export * from "./config";
export * from "./forge";
export * from "./probe-image";
export * from "./recipe-source";
export * from "./report";
export * from "./worker";
