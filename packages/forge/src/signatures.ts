import { createHmac, timingSafeEqual } from "node:crypto";
import { Webhooks } from "@octokit/webhooks";

/**
 * Verifies GitHub's X-Hub-Signature-256 over the raw body with @octokit/webhooks, trying each
 * configured secret so secrets can be rotated without dropping deliveries.
 */
export class GithubSignatureVerifier {
  private readonly verifiers: Webhooks[];

  constructor(secrets: string[]) {
    this.verifiers = secrets.filter(Boolean).map((secret) => new Webhooks({ secret }));
  }

  async verify(rawBody: string, signature: string | undefined): Promise<boolean> {
    if (!signature?.startsWith("sha256=")) return false;
    for (const webhooks of this.verifiers) {
      if (await webhooks.verify(rawBody, signature).catch(() => false)) return true;
    }
    return false;
  }
}

/** Gitea/Forgejo: hex HMAC-SHA256 of the raw body in X-Gitea-Signature, compared in constant time. */
export function verifyGiteaSignature(
  secrets: string[],
  rawBody: Buffer,
  signature: string | undefined,
): boolean {
  if (!signature || !/^[0-9a-f]{64}$/i.test(signature)) return false;
  const given = Buffer.from(signature.toLowerCase(), "hex");
  return secrets.filter(Boolean).some((secret) => {
    const expected = createHmac("sha256", secret).update(rawBody).digest();
    return timingSafeEqual(expected, given);
  });
}
