// One jest for the whole workspace: TypeScript is compiled by swc in ESM mode
// (ts-jest does not work with TypeScript 7). Lab-backed tests start the lab themselves.
const swc = ["@swc/jest", { jsc: { target: "es2022", parser: { syntax: "typescript" } } }];

export default {
  testEnvironment: "node",
  extensionsToTreatAsEsm: [".ts"],
  transform: { "^.+\\.ts$": swc },
  moduleFileExtensions: ["ts", "js", "json"],
  testMatch: [
    "<rootDir>/{apps,packages}/*/test/**/*.test.ts",
    "<rootDir>/infra/*/test/**/*.test.ts",
    "<rootDir>/bench/test/**/*.test.ts",
  ],
  testTimeout: 120_000,
  // Lab tests share one Docker engine: keep parallelism modest on 2-core machines.
  maxWorkers: 2,
};
