import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findRoute, loadRoutes } from '../../src/intake/routing.js';

function write(text: string): string {
  const path = join(mkdtempSync(join(tmpdir(), 'signoff-routes-')), 'routes.yaml');
  writeFileSync(path, text);
  return path;
}

describe('the routing file', () => {
  it('is refused at start with the path and line of each mistake', () => {
    const path = write(`routes:
  - match: { pipeline: web }
    approvers: [lead@example.com]
  - match: { pipline: api }
    approvers: [not-an-address]
`);
    expect(() => loadRoutes(path)).toThrow(
      /\/routes\/1\/match \(line 4\): must NOT have additional properties "pipline"/,
    );
    expect(() => loadRoutes(path)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => loadRoutes(join(tmpdir(), 'no-such-routes.yaml'))).toThrow(/SIGNOFF_ROUTES: cannot read/);
  });

  it('refuses at start a route whose gate could never pass', () => {
    const path = write(`routes:
  - match: { pipeline: web }
    approvers: [lead@example.com, pm@example.com]
    required: 3
`);
    expect(() => loadRoutes(path)).toThrow(expect.objectContaining({ code: 'invalid_input' }));
    expect(() => loadRoutes(path)).toThrow(/\/routes\/0\/required \(line 4\)/);
  });

  it('picks the first route whose every key matches, with * as a wildcard', () => {
    const routes = loadRoutes(
      write(`routes:
  - match: { pipeline: "data-*", stage: Production }
    approvers: [data@example.com]
  - match: { stage: Production }
    approvers: [lead@example.com]
`),
    );
    const subject = { topic: 'arn:aws:sns:eu-west-1:1:t', stage: 'Production', action: 'Approve' };
    expect(findRoute(routes, { ...subject, pipeline: 'data-lake' })?.approvers).toEqual(['data@example.com']);
    expect(findRoute(routes, { ...subject, pipeline: 'web' })?.approvers).toEqual(['lead@example.com']);
    expect(findRoute(routes, { ...subject, stage: 'Staging', pipeline: 'web' })).toBeUndefined();
    expect(findRoute(routes, { ...subject, pipeline: 'data-lake.x' })?.approvers).toEqual([
      'data@example.com',
    ]);
  });
});
