import { request } from "node:http";
import { ENV_BROKER_SOCKET, ENV_BROKER_TOKEN, type OpName, type Ops } from "./protocol";

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

export interface BrokerEndpoint {
  socketPath: string;
  token: string;
}

function endpoint(): BrokerEndpoint {
  const socketPath = process.env[ENV_BROKER_SOCKET];
  const token = process.env[ENV_BROKER_TOKEN];
  if (!socketPath || !token) {
    throw new Error("@taster/testkit: no broker (run these tests through `taster run`, not plain jest)");
  }
  return { socketPath, token };
}

/** One raw exchange with the broker: the HTTP status and the parsed JSON body. */
export function post(
  to: BrokerEndpoint,
  path: string,
  body: unknown,
): Promise<{ status: number; body: Record<string, unknown> }> {
  const payload = JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        socketPath: to.socketPath,
        path,
        method: "POST",
        agent: false,
        headers: {
          authorization: `Bearer ${to.token}`,
          "content-type": "application/json",
          "content-length": Buffer.byteLength(payload),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (chunk: Buffer) => chunks.push(chunk));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          try {
            resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : {} });
          } catch {
            reject(new Error(`the broker answered ${res.statusCode} with a body that is not JSON`));
          }
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

/** One broker call: POST /v1/<op>, JSON in and out, over the broker's unix socket. */
export async function call<K extends OpName>(op: K, req: Ops[K]["req"]): Promise<Ops[K]["res"]> {
  const { status, body } = await post(endpoint(), `/v1/${op}`, req);
  if (status < 200 || status > 299) throw new BrokerError(op, status, String(body.error ?? `HTTP ${status}`));
  return body as Ops[K]["res"];
}
