export * from "./command";
export * from "./events";
export * from "./gitea";
export * from "./github";
export { appJwt, type GithubAppCredentials } from "./github-app";
export * from "./port";
export * from "./signatures";
export * from "./sticky";
export * from "./trust";
