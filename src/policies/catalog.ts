import { createHash } from 'node:crypto';
import { type DocumentIssue, parseConfigDocument, readConfigFile } from '../config-file.js';
import type { ChangeWindow } from '../core/change-window.js';
import { parseDuration } from '../core/duration.js';
import type { Policy } from '../core/model.js';
import { type LoadedPolicy, policyVersionOf } from '../core/policy-version.js';
import { type CompileOptions, compileStages } from './compile.js';
import { type NamedPolicySpec, PoliciesFileSpec } from './spec.js';

/** A policy from the policies file, referenced by name from the API and from AWS routes. */
export interface NamedPolicy {
  readonly name: string;
  readonly description: string | null;
  readonly policy: Policy;
  /** The approval timeout this policy asks for, unless the request names one. */
  readonly timeoutMs: number | undefined;
  /**
   * `sha256:HEX` of everything above in canonical JSON: an edit of what the file says about
   * this policy (not of its layout or comments) is a new version. Approvals record it.
   */
  readonly version: string;
}

/** SHA-256 hex, for the versions of policies and the routing file. */
export const sha256Hex = (text: string) => createHash('sha256').update(text, 'utf8').digest('hex');

/** A named policy with its version: the hash of its compiled form. */
function versioned(named: Omit<NamedPolicy, 'version'>): NamedPolicy {
  return { ...named, version: policyVersionOf(named, sha256Hex) };
}

/** The named policies as the policy change log records them. */
export function loadedPolicies(catalog: PolicyCatalog): LoadedPolicy[] {
  return [...catalog.values()].map(({ version, ...content }) => ({
    source: 'policy',
    name: content.name,
    version,
    content,
  }));
}

export type PolicyCatalog = ReadonlyMap<string, NamedPolicy>;

/** A duration field of a named policy, reported by path when it is not one. */
function policyDuration(
  value: string | number | undefined,
  path: (string | number)[],
  example: string,
  issues: DocumentIssue[],
): number | undefined {
  if (value === undefined) return undefined;
  const ms = parseDuration(value);
  if (!ms) issues.push({ path, message: `must be a duration such as ${example}` });
  return ms;
}

/** A change window, with what the schema cannot say checked: a known zone, `to` after `from`. */
function compileWindow(
  spec: NonNullable<NamedPolicySpec['window']>,
  path: (string | number)[],
  issues: DocumentIssue[],
): ChangeWindow | undefined {
  try {
    new Intl.DateTimeFormat('en', { timeZone: spec.timezone });
  } catch {
    issues.push({
      path: [...path, 'timezone'],
      message: 'is not a time zone this Node knows, like Europe/Berlin',
    });
    return undefined;
  }
  if (spec.to <= spec.from) {
    issues.push({ path: [...path, 'to'], message: 'must be after from, on the same day' });
    return undefined;
  }
  return { ...spec, days: spec.days as ChangeWindow['days'] };
}

function compileNamedPolicy(
  name: string,
  spec: NamedPolicySpec,
  options: CompileOptions,
  issues: DocumentIssue[],
): Omit<NamedPolicy, 'version'> {
  const compiled = compileStages(spec.stages, ['policies', name, 'stages'], {
    ...options,
    trustedPatterns: true,
  });
  issues.push(...compiled.issues);
  const timeoutMs = policyDuration(spec.timeout, ['policies', name, 'timeout'], '24h', issues);
  const minReviewTimeMs = policyDuration(
    spec.minReviewTime,
    ['policies', name, 'minReviewTime'],
    '2m',
    issues,
  );
  const window = spec.window && compileWindow(spec.window, ['policies', name, 'window'], issues);
  return {
    name,
    description: spec.description ?? null,
    policy: {
      name,
      stages: compiled.stages,
      allowSelfApproval: spec.allowSelfApproval ?? false,
      ...(spec.requireRejectComment ? { requireRejectComment: true } : {}),
      ...(minReviewTimeMs ? { minReviewTimeMs } : {}),
      ...(window ? { window } : {}),
    },
    timeoutMs,
  };
}

/**
 * Parses a policies document; every mistake, from a wrong field to a rule that does not
 * compile, is reported with its path and line.
 */
export function parsePolicies(source: string, origin: string, options: CompileOptions): PolicyCatalog {
  const catalog = new Map<string, NamedPolicy>();
  parseConfigDocument(source, origin, PoliciesFileSpec, 'policies file', (document) => {
    const issues: DocumentIssue[] = [];
    for (const [name, spec] of Object.entries(document.policies))
      catalog.set(name, versioned(compileNamedPolicy(name, spec, options, issues)));
    return issues;
  });
  return catalog;
}

/** Reads the policies file named by SIGNOFF_POLICIES (none: an empty catalog). */
export function loadPolicies(path: string | undefined, options: CompileOptions): PolicyCatalog {
  if (!path) return new Map();
  return parsePolicies(readConfigFile(path, 'SIGNOFF_POLICIES'), path, options);
}
