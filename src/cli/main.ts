/**
 * `fhirgate <command> [args]`: the operator CLI (`npm run fhirgate -- <command>`, or the
 * installed `fhirgate` binary through `bin/fhirgate.js`). Each command group lives in its own
 * `src/cli/<group>-command.ts` file that exports a {@link CliCommand}; adding one (`tenant`,
 * `keys`) is a new file plus one line in {@link COMMANDS}.
 *
 * Exit codes, for every command: 0 success, 1 the thing checked has problems, 2 bad usage or an
 * environment failure (unreadable file, unreachable database). Secrets given on the command line
 * (database URLs) are never printed, in results or in errors.
 *
 * This module runs the CLI when it is loaded: other modules may import only types from it.
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { KEYS_COMMAND } from './keys-command.js';
import { MAPPING_COMMAND } from './mapping-command.js';
import { OIDC_TOKEN_USAGE, runOidcToken } from './oidc-token.js';
import { TENANT_COMMAND } from './tenant-command.js';

/** Where a command writes. Commands never touch `process.stdout` themselves, so tests can capture. */
export interface CliIo {
  /** Results: problems, summaries, help asked for. */
  out(text: string): void;
  /** Errors and usage after a mistake. */
  err(text: string): void;
}

/** One top-level command (a command group such as `mapping`, with its own subcommands). */
export interface CliCommand {
  /** The word after `fhirgate`. */
  readonly name: string;
  /** One line for the command list. */
  readonly summary: string;
  /** The command's full help text, ending with a newline. */
  readonly usage: string;
  /** Runs with the arguments after the command name; resolves to the exit code. */
  run(args: readonly string[], io: CliIo): Promise<number>;
}

const TOKEN_USAGE = `Usage: fhirgate token --tenant <client-id> [options]
       fhirgate token --issuer <url> --client-id <id> --client-secret-file <path>

With --tenant: mints an access token from the embedded demo's local issuer. This runs
src/cli/token.ts, which stays the entry point of \`npm run -s token -- ...\`; run
\`fhirgate token --tenant x --help\` for its options (--platform-admin among them).

With --issuer: ${OIDC_TOKEN_USAGE.split('\n').slice(2).join('\n')}`;

/**
 * `fhirgate token ...` runs `src/cli/token.ts` in a child process. That script runs on load and
 * exports nothing, so a child keeps its behaviour (stdout holds only the token, its exit codes)
 * exactly as `npm run token` has it.
 */
const TOKEN_COMMAND: CliCommand = {
  name: 'token',
  summary: 'get an access token: from an OpenID provider, or the demo issuer',
  usage: TOKEN_USAGE,
  run(args, io) {
    if (args.some((a) => a === '--issuer' || a.startsWith('--issuer='))) {
      return runOidcToken(args, io);
    }
    // Compiled (dist/cli/main.js) runs dist/cli/token.js with plain node; from the sources, tsx
    // (resolved from this package, so the binary works from any directory) runs token.ts.
    const compiled = import.meta.url.endsWith('.js');
    const script = fileURLToPath(new URL(compiled ? './token.js' : './token.ts', import.meta.url));
    const loader = compiled ? [] : ['--import', import.meta.resolve('tsx')];
    return new Promise((resolve) => {
      const child = spawn(process.execPath, [...loader, script, ...args], {
        stdio: 'inherit',
      });
      child.on('error', () => resolve(2));
      child.on('exit', (code) => resolve(code ?? 2));
    });
  },
};

/** Every command, in the order `help` lists them. */
const COMMANDS: readonly CliCommand[] = [
  TENANT_COMMAND,
  KEYS_COMMAND,
  MAPPING_COMMAND,
  TOKEN_COMMAND,
];

const USAGE = `Usage: fhirgate <command> [args]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(10)} ${c.summary}`).join('\n')}
  ${'help'.padEnd(10)} print this help, or a command's: fhirgate help <command>

Exit codes: 0 success, 1 problems found, 2 bad usage or an environment failure.
`;

/** Names we echo back; anything else (a pasted URL, say) is not repeated. */
const SAFE_WORD = /^[A-Za-z][A-Za-z0-9-]{0,31}$/;

function unknown(what: string, word: string): string {
  return SAFE_WORD.test(word) ? `unknown ${what} "${word}"` : `unknown ${what}`;
}

/** Runs one CLI invocation; resolves to the exit code. */
async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined) {
    io.err(USAGE);
    return 2;
  }
  if (name === 'help' || name === '--help' || name === '-h') {
    const topic = rest[0];
    if (topic === undefined) {
      io.out(USAGE);
      return 0;
    }
    const command = COMMANDS.find((c) => c.name === topic);
    if (command === undefined) {
      io.err(`fhirgate: ${unknown('command', topic)}.\n\n${USAGE}`);
      return 2;
    }
    io.out(command.usage);
    return 0;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (command === undefined) {
    io.err(`fhirgate: ${unknown('command', name)}.\n\n${USAGE}`);
    return 2;
  }
  return command.run(rest, io);
}

const io: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
};

runCli(process.argv.slice(2), io)
  .then((code) => {
    process.exitCode = code;
  })
  .catch((err: unknown) => {
    // A bug, not an expected failure: driver messages may quote values, so print the type and
    // the stack frames without the message.
    const name = err instanceof Error ? err.name : typeof err;
    const frames = err instanceof Error ? (err.stack ?? '').split('\n').slice(1).join('\n') : '';
    io.err(`fhirgate: unexpected ${name}.\n${frames}\n`);
    process.exitCode = 2;
  });
