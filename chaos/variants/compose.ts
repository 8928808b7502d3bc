/**
 * Broken variants of hello-web PR #1, made by editing a checkout's compose.yml (WorldOptions.variant):
 * the lab's published repos stay as they are.
 */
import { appendFile, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";

export type Variant = (checkout: string) => Promise<void>;

/**
 * A variant that adds lines to hello-web's one service, `app`, right below its `image:` line
 * (or replaces that line): plain text, so the rest of the file stays exactly as published.
 */
function editApp(edit: (imageLine: string) => string): Variant {
  return async (checkout) => {
    const path = join(checkout, "compose.yml");
    const text = await readFile(path, "utf8");
    const imageLine = /^ {4}image: .*$/m.exec(text)?.[0];
    if (!imageLine) throw new Error(`${path}: no "    image:" line to edit`);
    await writeFile(path, text.replace(imageLine, edit(imageLine)));
  };
}

/** Runs variants one after the other on the same checkout. */
export function allOf(...variants: Variant[]): Variant {
  return async (checkout) => {
    for (const variant of variants) await variant(checkout);
  };
}

/** The app's process exits 1 at once: swarm restarts it (restart_policy on-failure) again and again. */
export const crashLoop = editApp(
  (image) => `${image}\n    command: ["sh", "-c", "echo 'chaos: giving up at once' >&2; exit 1"]`,
);

/** An image no engine has, with no registry reachable to pull it from. */
export const MISSING_IMAGE = "taster-lab/no-such-image:0.0-chaos";
export const missingImage = editApp(() => `    image: ${MISSING_IMAGE}`);

/** The compose name of the secret `withSecret` adds, and where the app sees it. */
export const APP_SECRET = "api_key";
export const APP_SECRET_PATH = `/run/secrets/${APP_SECRET}`;

/** The app gets an abra-style generated secret (created by Taster with a random value at deploy). */
export const withSecret: Variant = allOf(
  editApp((image) => `${image}\n    secrets:\n      - ${APP_SECRET}`),
  async (checkout) => {
    const name = `\${STACK_NAME}_${APP_SECRET}_\${SECRET_API_KEY_VERSION}`;
    await appendFile(
      join(checkout, "compose.yml"),
      `\nsecrets:\n  ${APP_SECRET}:\n    external: true\n    name: ${name}\n`,
    );
    await writeFile(join(checkout, ".env.sample"), "SECRET_API_KEY_VERSION=v1 # length=40\n");
  },
);
