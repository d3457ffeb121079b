/** The agent policy docs/agents.md shows: reads and harmless commands pass, the rest asks a person. */
export const AGENT_POLICY = `
policies:
  agent:
    stages:
      - name: harmless
        type: rule
        rules:
          - when: "has(action.tool) && action.tool in ['Read', 'Grep', 'Glob']"
            then: approve
            reason: Reading changes nothing
          - when: "has(action.tool) && action.tool == 'Bash' && !action.arguments.command.matches('rm -rf|kubectl delete|terraform apply')"
            then: approve
            reason: An ordinary command
      - name: people
        type: human
        gates:
          - { name: owners, approvers: [lead@example.com] }
`;
