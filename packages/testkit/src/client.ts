import { ENV_BROKER_TOKEN, ENV_BROKER_URL, type OpName, type Ops } from "./protocol";

/** Raised when the broker refuses or fails an operation; the message is the broker's. */
export class BrokerError extends Error {
  constructor(
    readonly op: string,
    readonly status: number,
    message: string,
  ) {
    super(`${op}: ${message}`);
    this.name = "BrokerError";
  }
}

function endpoint(): { url: string; token: string } {
  const url = process.env[ENV_BROKER_URL];
  const token = process.env[ENV_BROKER_TOKEN];
  if (!url || !token) {
    throw new Error("@taster/testkit: no broker (run these tests through `taster run`, not plain jest)");
  }
  return { url, token };
}

/** One broker call: POST /v1/<op>, JSON in and out. */
export async function call<K extends OpName>(op: K, req: Ops[K]["req"]): Promise<Ops[K]["res"]> {
  const { url, token } = endpoint();
  const response = await fetch(`${url}/v1/${op}`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify(req),
  });
  const text = await response.text();
  const body = text ? JSON.parse(text) : {};
  if (!response.ok) throw new BrokerError(op, response.status, body.error ?? response.statusText);
  return body as Ops[K]["res"];
}
