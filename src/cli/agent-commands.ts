import type { Command } from 'commander';
import { type CommandContext, duration } from './command-context.js';

/** How long the hook waits for people by default: Claude Code's own hook timeout must be longer. */
const HOOK_WAIT = '10m';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** `signoff mcp` and `signoff hook claude-code`: where agents ask, never decide. */
export function registerAgentCommands(program: Command, context: CommandContext): void {
  const { client, out, env, examples } = context;
  program
    .command('mcp')
    .description('an MCP server on stdio for agents, backed by the signoff at SIGNOFF_URL (SIGNOFF_TOKEN)')
    .option(
      '--policy <name>',
      'the named policy for requests that name no approvers, and for the permission prompt',
    )
    .addHelpText(
      'after',
      examples(
        'claude mcp add signoff -e SIGNOFF_URL=https://signoff.example.com -e SIGNOFF_TOKEN=sk_... -- signoff mcp --policy agent',
      ),
    )
    .action(async (options: { policy?: string }) => {
      if (!env.SIGNOFF_TOKEN) {
        out.log('error: set SIGNOFF_TOKEN to an API key or access token for the agent.');
        context.exit(3);
        return;
      }
      const { runMcpBridge } = await import('./mcp-bridge.js');
      await runMcpBridge({
        url: env.SIGNOFF_URL || 'http://127.0.0.1:8080',
        token: env.SIGNOFF_TOKEN,
        policy: options.policy,
        log: out.log,
      });
    });

  const hook = program.command('hook').description('hooks for agent tools');
  hook
    .command('claude-code')
    .description(
      "Claude Code's PreToolUse hook: reads the tool call on stdin, asks the policy, waits for people, prints allow, deny or (when the wait runs out) ask",
    )
    .requiredOption('--policy <name>', 'the named policy whose rules say which tool calls need a person')
    .option(
      '--wait <duration>',
      'how long to wait for people before answering ask',
      duration,
      duration(HOOK_WAIT),
    )
    .addHelpText('after', examples('signoff hook claude-code --policy agent --wait 10m < pre-tool-use.json'))
    .action(async (options: { policy: string; wait: number }) => {
      const { answerPreToolUse } = await import('./claude-code-hook.js');
      const answer = await answerPreToolUse(client, await readStdin(), {
        policy: options.policy,
        waitMs: options.wait,
        log: out.log,
      });
      if (answer) out.print(JSON.stringify(answer));
    });
}
