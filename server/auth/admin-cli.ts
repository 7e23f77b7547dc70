/**
 * `npm run admin:create -- [--username NAME] [--name DISPLAY]`: creates a platform admin account in the
 * database DATABASE_URL names. The password comes from ADMIN_PASSWORD, or is asked for (twice, not echoed)
 * on a terminal, or read from the first line of standard input.
 */
import readline from "node:readline";
import { connectDatabase } from "../platform/db/index.ts";
import { describeTarget, parseDatabaseUrl } from "../platform/db/target.ts";
import { createUserRepository } from "./repository.ts";
import { createAdmin } from "./first-admin.ts";

const USAGE = "usage: npm run admin:create -- [--username NAME] [--name DISPLAY_NAME]  (password: ADMIN_PASSWORD, a prompt, or stdin)";

function parseArgs(argv: string[]): { username: string; displayName?: string } {
  const out: { username: string; displayName?: string } = { username: process.env.ADMIN_USERNAME || "admin" };
  for (let i = 0; i < argv.length; i++) {
    const [flag, inline] = argv[i]!.split("=", 2) as [string, string | undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (!v) throw new Error(`${flag} needs a value (${USAGE})`);
      return v;
    };
    if (flag === "--username") out.username = value();
    else if (flag === "--name") out.displayName = value();
    else throw new Error(`unknown option ${argv[i]} (${USAGE})`);
  }
  if (!/^[a-z0-9_.-]{3,64}$/.test(out.username)) throw new Error("the username needs 3-64 of a-z 0-9 _ . -");
  return out;
}

function ask(question: string, hidden: boolean): Promise<string> {
  return new Promise((resolve) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY });
    if (hidden && process.stdin.isTTY) {
      // Echo nothing of what is typed after the question itself.
      (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = (s: string) => {
        if (s.includes(question)) process.stdout.write(s);
      };
    }
    rl.question(question, (answer) => {
      rl.close();
      if (hidden && process.stdin.isTTY) process.stdout.write("\n");
      resolve(answer);
    });
  });
}

async function readPassword(): Promise<string> {
  if (process.env.ADMIN_PASSWORD) return process.env.ADMIN_PASSWORD;
  const first = await ask("password (at least 10 characters): ", true);
  if (process.stdin.isTTY && (await ask("again: ", true)) !== first) throw new Error("the two passwords differ");
  return first;
}

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2));
  const password = await readPassword();
  if (password.length < 10 || password.length > 256) throw new Error("the password needs 10-256 characters");
  const target = parseDatabaseUrl(process.env.DATABASE_URL);
  const db = await connectDatabase(target);
  try {
    const outcome = await createAdmin(createUserRepository(db.prisma), { username: args.username, password, displayName: args.displayName });
    if (outcome === "taken") throw new Error(`an account named ${args.username} exists already in ${describeTarget(target)} (choose --username)`);
    console.log(`admin account ${args.username} created in ${describeTarget(target)}`);
  } finally {
    await db.close().catch(() => {});
  }
}

main().catch((error: unknown) => {
  console.error(`admin:create failed: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
