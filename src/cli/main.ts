import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { SignoffError } from '../core/errors.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerApprovalCommands } from './approval-commands.js';
import { registerBreakGlassCommands } from './break-glass-commands.js';
import { ApiError, createClient } from './client.js';
import { type CommandContext, examples } from './command-context.js';
import { registerGrantCommands } from './grant-commands.js';
import { registerOperatorCommands } from './operator-commands.js';
import { type Output, STANDARD_OUTPUT } from './output.js';
import { EXIT } from './wait.js';

// Client commands load only the HTTP client: the server, the database drivers and the mailer are
// imported by the commands that need them (serve, migrate, keys, audit, check).

function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `signoff keys create`: how a command is typed, for pointing at its help. */
function commandPath(command: Command): string {
  const names: string[] = [];
  for (let at: Command | null = command; at; at = at.parent) names.unshift(at.name());
  return names.join(' ');
}

/**
 * Usage errors are one line that says what is wrong and where the help is, as `git` and `npm`
 * do: Commander's own (a missing option, an unknown command) and those thrown by actions.
 */
function usageErrorsOnOneLine(command: Command): void {
  const hint = ` (see ${commandPath(command)} --help)`;
  command.configureOutput({
    outputError: (text, write) => write(`${text.trim().split('\n').join(' ')}${hint}\n`),
  });
  for (const sub of command.commands) usageErrorsOnOneLine(sub);
}

/** Runs the `signoff` command; resolves with the process exit code. */
export async function main(
  argv: string[],
  env: Record<string, string | undefined> = process.env,
  out: Output = STANDARD_OUTPUT,
): Promise<number> {
  let exitCode = 0;
  const client = createClient(env);
  const program = new Command('signoff')
    .description('signoff: approvals for automation. Client commands read SIGNOFF_URL and SIGNOFF_TOKEN.')
    .version(version(), '-V, --version', 'print the version')
    .exitOverride()
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
    })
    .addHelpText(
      'after',
      examples(
        'SIGNOFF_URL=https://signoff.example.com SIGNOFF_TOKEN=sk_... signoff create -t "Deploy v2" -a lead@example.com --wait',
        'signoff ls --status pending',
        'signoff serve',
      ),
    );

  const context: CommandContext = {
    client,
    out,
    env,
    examples,
    exit: (code) => {
      exitCode = code;
    },
  };
  registerAgentCommands(program, context);
  registerOperatorCommands(program, context);
  registerApprovalCommands(program, context);
  registerGrantCommands(program, context);
  registerBreakGlassCommands(program, context);

  usageErrorsOnOneLine(program);
  let running: Command = program;
  program.hook('preAction', (_program, action) => {
    running = action;
  });

  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    if (error instanceof ApiError) out.log(`error: ${error.message} (${error.code})`);
    else if (error instanceof InvalidArgumentError)
      out.log(`error: ${error.message} (see ${commandPath(running)} --help)`);
    else if (error instanceof SignoffError) out.log(`error: ${error.message}`);
    // Commander has printed what it had to say: help or the version (0), or a usage error, or
    // the help of a command given no subcommand (`signoff` alone), which is a usage error too.
    else if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT.error;
    else throw error;
    return EXIT.error;
  }
}
