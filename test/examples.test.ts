import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parseDocument } from 'yaml';
import { parseDuration } from '../src/core/duration.js';
import { findRoute, loadRoutes } from '../src/intake/routing.js';
import { loadPolicies } from '../src/policies/catalog.js';

const EXAMPLES = new URL('../examples/', import.meta.url);
const FILES = readdirSync(EXAMPLES).sort();

type Node = Record<string, unknown>;

/** Parses one example: JSON with JSON.parse, YAML with `yaml`, failing on any error or warning. */
function load(name: string): unknown {
  const text = readFileSync(new URL(name, EXAMPLES), 'utf8');
  if (name.endsWith('.json')) return JSON.parse(text);
  const doc = parseDocument(text, { prettyErrors: true });
  // Short-form CloudFormation tags (!Ref, !Sub) show up as unresolved-tag warnings.
  expect(doc.errors.map(String), `${name}: YAML errors`).toEqual([]);
  expect(doc.warnings.map(String), `${name}: YAML warnings`).toEqual([]);
  return doc.toJS();
}

function obj(value: unknown, where: string): Node {
  expect(value !== null && typeof value === 'object' && !Array.isArray(value), `${where} is an object`).toBe(
    true,
  );
  return value as Node;
}

function list(value: unknown, where: string): unknown[] {
  expect(Array.isArray(value), `${where} is a list`).toBe(true);
  return value as unknown[];
}

/** A CloudFormation template's resources of one type, by logical id. */
function resourcesOfType(template: Node, type: string): [string, Node][] {
  return Object.entries(obj(template.Resources, 'Resources'))
    .map(([id, resource]) => [id, obj(resource, id)] as [string, Node])
    .filter(([, resource]) => resource.Type === type);
}

function onlyResource(template: Node, type: string): [string, Node] {
  const found = resourcesOfType(template, type);
  expect(found, `exactly one ${type}`).toHaveLength(1);
  return found[0] as [string, Node];
}

const PSEUDO = ['AWS::AccountId', 'AWS::Region', 'AWS::StackName', 'AWS::StackId', 'AWS::Partition'];

/** Every Ref, Fn::GetAtt, Fn::Sub variable and DependsOn names a parameter, resource or pseudo parameter. */
function expectReferencesResolve(name: string, template: Node) {
  const resources = new Set(Object.keys(obj(template.Resources, 'Resources')));
  const names = new Set([
    ...resources,
    ...Object.keys(obj(template.Parameters ?? {}, 'Parameters')),
    ...PSEUDO,
  ]);
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) {
      for (const [i, item] of value.entries()) walk(item, `${path}[${i}]`);
      return;
    }
    if (value === null || typeof value !== 'object') return;
    for (const [key, inner] of Object.entries(value)) {
      const at = `${name}: ${path}.${key}`;
      if (key === 'Ref') expect(names.has(String(inner)), `${at} = ${String(inner)}`).toBe(true);
      if (key === 'Fn::GetAtt') expect(resources.has(String(list(inner, at)[0])), at).toBe(true);
      if (key === 'Fn::Sub' && typeof inner === 'string')
        for (const [, variable = ''] of inner.matchAll(/\$\{([^}!]+)\}/g))
          expect(names.has(variable.split('.')[0] ?? ''), `${at}: \${${variable}}`).toBe(true);
      if (key === 'DependsOn')
        for (const target of [inner].flat()) expect(resources.has(String(target)), at).toBe(true);
      walk(inner, `${path}.${key}`);
    }
  };
  walk(template.Resources, 'Resources');
  walk(template.Outputs ?? {}, 'Outputs');
}

/** The topic resource (by logical id) that an HTTPS subscription sends to signoff's SNS endpoint. */
function expectSignoffSubscription(template: Node): string {
  const [topicId] = onlyResource(template, 'AWS::SNS::Topic');
  const [, subscription] = onlyResource(template, 'AWS::SNS::Subscription');
  const properties = obj(subscription.Properties, 'Subscription.Properties');
  expect(properties).toMatchObject({
    TopicArn: { Ref: topicId },
    Protocol: 'https',
    Endpoint: { 'Fn::Sub': `\${SignoffUrl}/integrations/aws/sns` },
  });
  expect(properties.RawMessageDelivery ?? false).toBe(false);
  expect(obj(template.Parameters, 'Parameters')).toHaveProperty('SignoffUrl');
  return topicId;
}

/** Whether a role's inline policies allow an action on a Ref to the given resource. */
function roleAllows(role: Node, action: string, resourceId: string): boolean {
  const policies = list(obj(role.Properties, 'Role.Properties').Policies, 'Policies');
  return policies.some((policy) =>
    list(obj(obj(policy, 'policy').PolicyDocument, 'PolicyDocument').Statement, 'Statement').some(
      (statement) => {
        const s = obj(statement, 'statement');
        return (
          s.Effect === 'Allow' &&
          [s.Action].flat().includes(action) &&
          JSON.stringify(s.Resource) === JSON.stringify({ Ref: resourceId })
        );
      },
    ),
  );
}

/** Checks the approval flow of a state machine definition and returns its waiting task. */
function expectApprovalStateMachine(definition: Node): Node {
  const states = obj(definition.States, 'States');
  expect(states).toHaveProperty(String(definition.StartAt));
  // Every transition leads to a state that exists.
  for (const [id, state] of Object.entries(states)) {
    const s = obj(state, id);
    for (const next of [s.Next, s.Default, ...list(s.Choices ?? [], 'Choices').map((c) => obj(c, 'c').Next)])
      if (next !== undefined) expect(states, `${id} -> ${String(next)}`).toHaveProperty(String(next));
  }

  const tasks = Object.values(states)
    .map((state) => state as Node)
    .filter((state) => state.Resource === 'arn:aws:states:::sns:publish.waitForTaskToken');
  expect(tasks).toHaveLength(1);
  const task = tasks[0] as Node;
  expect(task.Type).toBe('Task');
  const parameters = obj(task.Parameters, 'Parameters');
  expect(typeof parameters.TopicArn).toBe('string');
  const message = obj(parameters.Message, 'Message');
  expect(message['taskToken.$']).toBe('$$.Task.Token');
  const request = obj(message.signoff, 'Message.signoff');
  expect(typeof (request.title ?? request['title.$'])).toBe('string');
  expect(list(request.approvers, 'signoff.approvers').length).toBeGreaterThan(0);
  expect(task.ResultPath).toBe('$.signoff');

  const choice = obj(states[String(task.Next)], 'the state after the task');
  expect(choice.Type).toBe('Choice');
  const approvedRule = list(choice.Choices, 'Choices')
    .map((rule) => obj(rule, 'rule'))
    .find((rule) => rule.Variable === '$.signoff.approved' && rule.BooleanEquals === true);
  expect(approvedRule, 'a Choice on $.signoff.approved = true').toBeDefined();
  expect(String(approvedRule?.Next)).toBe('Deploy');
  expect(obj(states.Deploy, 'Deploy').Type).toBe('Pass');
  expect(obj(states[String(choice.Default)], 'the Choice default').Type).toBe('Fail');
  return task;
}

describe('examples/', () => {
  it('holds the documented examples', () => {
    expect(FILES).toEqual(
      expect.arrayContaining([
        'codepipeline.yaml',
        'policies.yaml',
        'routes.yaml',
        'service-catalog-approval.yaml',
        'slack-app.yaml',
        'stepfunctions.json',
        'stepfunctions.yaml',
      ]),
    );
  });

  it.each(FILES)('%s parses (YAML without short-form tags, or JSON)', (name) => {
    expect(
      ['.yaml', '.yml', '.json'].some((ext) => name.endsWith(ext)),
      name,
    ).toBe(true);
    expect(load(name)).toBeTypeOf('object');
  });

  it.each(
    FILES.filter(
      (name) => !['routes.yaml', 'policies.yaml', 'slack-app.yaml'].includes(name) && name.endsWith('.yaml'),
    ),
  )('%s is a CloudFormation template whose references all resolve', (name) => {
    const template = obj(load(name), name);
    expect(template.AWSTemplateFormatVersion).toBe('2010-09-09');
    expectReferencesResolve(name, template);
  });

  it('slack-app.yaml: asks for no more scopes than signoff uses, and sends clicks to the interactions route', () => {
    const manifest = obj(load('slack-app.yaml'), 'slack-app.yaml');
    const bot = obj(obj(obj(manifest.oauth_config, 'oauth_config').scopes, 'scopes'), 'scopes').bot;
    expect([...list(bot, 'bot scopes')].sort()).toEqual(['chat:write', 'users:read', 'users:read.email']);
    const interactivity = obj(obj(manifest.settings, 'settings').interactivity, 'interactivity');
    expect(interactivity.is_enabled).toBe(true);
    expect(String(interactivity.request_url)).toMatch(/^https:\/\/[^/]+\/integrations\/slack\/interactions$/);
    expect(obj(manifest.settings, 'settings').socket_mode_enabled).toBe(false);
  });

  it('codepipeline.yaml: a manual approval action notifies the topic subscribed to signoff', () => {
    const template = obj(load('codepipeline.yaml'), 'codepipeline.yaml');
    const topicId = expectSignoffSubscription(template);
    const [, pipeline] = onlyResource(template, 'AWS::CodePipeline::Pipeline');
    const properties = obj(pipeline.Properties, 'Pipeline.Properties');
    const stages = list(properties.Stages, 'Stages').map((stage) => obj(stage, 'stage'));
    expect(list(stages[0]?.Actions, 'first stage').map((a) => obj(a, 'a').ActionTypeId)).toContainEqual(
      expect.objectContaining({ Category: 'Source', Provider: 'S3' }),
    );
    const production = stages.find((stage) => stage.Name === 'Production');
    const approve = list(production?.Actions, 'Production.Actions')
      .map((action) => obj(action, 'action'))
      .find((action) => action.Name === 'Approve');
    expect(approve?.ActionTypeId).toEqual({
      Category: 'Approval',
      Owner: 'AWS',
      Provider: 'Manual',
      Version: '1',
    });
    const configuration = obj(approve?.Configuration, 'Approve.Configuration');
    expect(configuration.NotificationArn).toEqual({ Ref: topicId });
    expect(configuration).toHaveProperty('CustomData');
    expect(configuration).toHaveProperty('ExternalEntityLink');
    expect(String(configuration.CustomData).length).toBeLessThanOrEqual(500);

    const [roleId, role] = onlyResource(template, 'AWS::IAM::Role');
    expect(properties.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(roleAllows(role, 'sns:Publish', topicId), 'the pipeline role may publish to the topic').toBe(true);
  });

  it('stepfunctions.json: waits on a task token from signoff and branches on $.signoff.approved', () => {
    const definition = obj(load('stepfunctions.json'), 'stepfunctions.json');
    const approvalTask = expectApprovalStateMachine(definition);
    expect(String(obj(approvalTask.Parameters, 'Parameters').TopicArn)).toMatch(/^arn:aws:sns:/);
  });

  it('stepfunctions.yaml: the same definition, publishing to its own topic subscribed to signoff', () => {
    const template = obj(load('stepfunctions.yaml'), 'stepfunctions.yaml');
    const topicId = expectSignoffSubscription(template);
    const [, machine] = onlyResource(template, 'AWS::StepFunctions::StateMachine');
    const properties = obj(machine.Properties, 'StateMachine.Properties');
    expect(properties.StateMachineType ?? 'STANDARD').toBe('STANDARD');
    const definition = obj(properties.Definition, 'Definition');
    const approvalTask = expectApprovalStateMachine(definition);

    const topicArn = String(obj(approvalTask.Parameters, 'Parameters').TopicArn);
    const variable = /^\$\{(\w+)\}$/.exec(topicArn)?.[1] ?? '';
    expect(obj(properties.DefinitionSubstitutions, 'DefinitionSubstitutions')[variable]).toEqual({
      Ref: topicId,
    });

    // The inline definition does not drift from examples/stepfunctions.json.
    const fromJson = structuredClone(obj(load('stepfunctions.json'), 'stepfunctions.json'));
    const jsonTask = obj(obj(fromJson.States, 'States').Approval, 'Approval');
    obj(jsonTask.Parameters, 'Parameters').TopicArn = topicArn;
    expect(definition).toEqual(fromJson);

    const [roleId, role] = onlyResource(template, 'AWS::IAM::Role');
    expect(properties.RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
    expect(roleAllows(role, 'sns:Publish', topicId), 'the state machine role may publish').toBe(true);
  });

  it('service-catalog-approval.yaml: Custom::Approval on a WaitConditionHandle guards resources', () => {
    const template = obj(load('service-catalog-approval.yaml'), 'service-catalog-approval.yaml');
    const [handleId] = onlyResource(template, 'AWS::CloudFormation::WaitConditionHandle');

    const [waitId, wait] = onlyResource(template, 'AWS::CloudFormation::WaitCondition');
    const waitProperties = obj(wait.Properties, 'WaitCondition.Properties');
    expect(waitProperties.Handle).toEqual({ Ref: handleId });
    const waitSeconds = Number(waitProperties.Timeout);
    expect(waitSeconds).toBeGreaterThan(0);
    expect(waitSeconds).toBeLessThanOrEqual(43_200);

    const [approvalId, approval] = onlyResource(template, 'Custom::Approval');
    const properties = obj(approval.Properties, 'Custom::Approval.Properties');
    expect(properties).toHaveProperty('ServiceToken');
    expect(properties.WaitHandle).toEqual({ Ref: handleId });
    expect(properties).toHaveProperty('Approvers');
    expect(properties).toHaveProperty('Required');
    expect(properties).toHaveProperty('Title');
    const approvalMs = parseDuration(String(properties.Timeout));
    expect(approvalMs, 'Custom::Approval Timeout is a duration').toBeDefined();
    expect(approvalMs ?? Number.POSITIVE_INFINITY).toBeLessThanOrEqual(waitSeconds * 1000);
    expect([wait.DependsOn].flat()).toContain(approvalId);

    const guarded = Object.entries(obj(template.Resources, 'Resources')).filter(([, resource]) =>
      [obj(resource, 'resource').DependsOn].flat().includes(waitId),
    );
    expect(guarded.length, 'some resource DependsOn the WaitCondition').toBeGreaterThan(0);
  });

  it('routes.yaml: loads with the real routing-file loader and routes the example pipeline', () => {
    const routes = loadRoutes(fileURLToPath(new URL('../examples/routes.yaml', import.meta.url)));
    expect(routes.length).toBeGreaterThan(0);
    const route = findRoute(routes, {
      topic: 'arn:aws:sns:eu-west-1:123456789012:signoff-approvals',
      pipeline: 'web',
      stage: 'Production',
      action: 'Approve',
    });
    expect(route?.approvers?.length).toBeGreaterThan(0);
  });

  it('policies.yaml: loads with the real policies loader, with an AI endpoint configured', () => {
    const catalog = loadPolicies(fileURLToPath(new URL('../examples/policies.yaml', import.meta.url)), {
      aiConfigured: true,
    });
    expect([...catalog.keys()]).toEqual(['prod-deploy', 'small-changes']);
    expect(catalog.get('prod-deploy')?.policy.stages.map((s) => s.type)).toEqual(['rule', 'ai', 'human']);
  });
});
