/**
 * A call to 96333 as the phone system reports it: ringing, answered after a few seconds, optionally hung
 * up. Rings the console of `npm start` out of the box (demo webhook secret).
 *
 * npm run call -- [--caller 13800001111] [--code 123456] [--url http://localhost:$PORT] [--answer-after 3]
 *                 [--hangup-after S] [--line 96333-1] [--secret S]
 */
import { parseArgs } from "node:util";
import crypto from "node:crypto";
import { DEFAULT_DEMO_DEVICE_KEY, demoTelephonySecret } from "../server/contracts/demo.ts";
import { hmacSha256 } from "./crypto.ts";
import { postCallEvent, type CallEvent } from "./pbx.ts";
import { envPort } from "./env-port.ts";

const USAGE = `usage: npm run call -- [options]
  --caller NUMBER      caller's number (default: a random mobile number)
  --code CODE          6-digit rescue code keyed in at the IVR prompt (default: none, the dispatcher asks)
  --url URL            platform URL (default http://localhost:${envPort("PORT", 3000)}, from PORT)
  --line LINE          trunk / line label (default 96333-1)
  --answer-after S     seconds of ringing before an agent answers (default 3; 0 = never answered)
  --hangup-after S     seconds of talking before the caller hangs up (default: stays on the line)
  --secret S           TELEPHONY_SECRET (default: $TELEPHONY_SECRET, else the demo secret of npm start)
  --help               this text`;

function fail(msg: string): never {
  process.stderr.write(`${msg}\n${USAGE}\n`);
  process.exit(2);
}

const { values } = parseArgs({
  options: {
    caller: { type: "string" },
    code: { type: "string" },
    url: { type: "string", default: `http://localhost:${envPort("PORT", 3000)}` },
    line: { type: "string", default: "96333-1" },
    "answer-after": { type: "string", default: "3" },
    "hangup-after": { type: "string" },
    secret: { type: "string" },
    help: { type: "boolean", short: "h" },
  },
});
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const seconds = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n < 0) fail(`--${name} must be a number of seconds >= 0`);
  return n;
};
if (values.code !== undefined && !/^\d{6}$/.test(values.code)) fail("--code is a 6-digit rescue code");
const caller = values.caller ?? `13${crypto.randomInt(100_000_000, 999_999_999)}`;
const answerAfter = seconds("answer-after", values["answer-after"])!;
const hangupAfter = seconds("hangup-after", values["hangup-after"]);
const secret = values.secret ?? (process.env.TELEPHONY_SECRET || demoTelephonySecret(hmacSha256, process.env.DEMO_DEVICE_KEY || DEFAULT_DEMO_DEVICE_KEY));
const callId = `sim-${Date.now().toString(36)}-${crypto.randomBytes(2).toString("hex")}`;
const sleep = (s: number) => new Promise((r) => setTimeout(r, s * 1000));

async function send(event: CallEvent): Promise<void> {
  let res: Response;
  try {
    res = await postCallEvent(values.url!, secret, event);
  } catch (error) {
    fail(`cannot reach ${values.url}: ${(error as Error).message}`);
  }
  if (!res.ok) {
    process.stderr.write(`${event.event}: HTTP ${res.status} ${await res.text()}\n`);
    process.exit(1);
  }
  process.stdout.write(`${new Date().toISOString()}  ${event.event.padEnd(8)} call ${callId} from ${caller}\n`);
}

await send({ event: "ringing", callId, callerNumber: caller, line: values.line, ...(values.code ? { rescueCode: values.code } : {}) });
if (answerAfter > 0) {
  await sleep(answerAfter);
  await send({ event: "answered", callId, agent: "demo-agent" });
  if (hangupAfter !== undefined) {
    await sleep(hangupAfter);
    await send({ event: "ended", callId });
  }
}
