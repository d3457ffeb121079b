// What happens to each approval, drawn up front from a seeded generator: who decides, how
// (link, API, web) and in which order, so a run's plan can be repeated with --seed.

export const PEOPLE = ['alice', 'bob', 'carol', 'dave'].map((name) => `${name}@example.com`);
export const CHANNELS = ['link', 'api', 'web'];
export const FINAL = ['approved', 'rejected', 'expired', 'cancelled'];

/** mulberry32: small, seeded, good enough to draw plans and pauses from. */
export function seededRandom(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function shuffled(list, random) {
  const copy = [...list];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j], copy[i]];
  }
  return copy;
}

/**
 * One plan per approval. `rounds` run one after another; the steps of a round run at once, on
 * different instances. `contended` plans race on purpose: there a refusal (409, 410) is expected.
 *
 * - approve: `required` (1 or 2) approvers approve; approved.
 * - reject: (an approve, then) a reject; rejected.
 * - race: one approver approves through two channels at once; exactly one decision counts.
 * - contend: three approvers decide at once, some approve, some reject; exactly one counts.
 * - cancel: the requester cancels, half the time racing an approve; cancelled or approved.
 * - expire: nobody decides; the sweeper expires it after 6 s.
 */
export function drawPlans(count, receivers, random) {
  const channel = () => CHANNELS[Math.floor(random() * CHANNELS.length)];
  const plans = [];
  for (let index = 0; index < count; index++) {
    const approvers = shuffled(PEOPLE, random).slice(0, 3);
    const [first, second, third] = approvers;
    const roll = random();
    const step = (person, verdict, via = channel()) => ({ person, verdict, via });
    let plan;
    if (roll < 0.5) {
      const required = random() < 0.6 ? 1 : 2;
      const steps = [step(first, 'approve'), step(second, 'approve')].slice(0, required);
      plan = {
        kind: 'approve',
        required,
        rounds: required === 2 && random() < 0.5 ? [steps] : steps.map((s) => [s]),
      };
    } else if (roll < 0.65) {
      const required = random() < 0.5 ? 1 : 2;
      plan = {
        kind: 'reject',
        required,
        rounds:
          required === 1 ? [[step(first, 'reject')]] : [[step(first, 'approve')], [step(second, 'reject')]],
      };
    } else if (roll < 0.77) {
      const [one, other] = shuffled(CHANNELS, random);
      plan = {
        kind: 'race',
        required: 1,
        contended: true,
        rounds: [[step(first, 'approve', one), step(first, 'approve', other)]],
      };
    } else if (roll < 0.87) {
      const verdict = () => (random() < 0.5 ? 'approve' : 'reject');
      plan = {
        kind: 'contend',
        required: 1,
        contended: true,
        rounds: [[step(first, verdict()), step(second, verdict()), step(third, verdict())]],
      };
    } else if (roll < 0.94) {
      const racing = random() < 0.5;
      plan = {
        kind: 'cancel',
        required: 1,
        contended: racing,
        rounds: [[{ cancel: true }, ...(racing ? [step(first, 'approve')] : [])]],
      };
    } else {
      plan = { kind: 'expire', required: 1, timeout: '6s', rounds: [] };
    }
    plans.push({
      index,
      approvers,
      receiver: index % receivers,
      // A waiting workflow that long-polls instead of (or besides) taking the webhook.
      waiter: random() < 0.2,
      pauseMs: Math.floor(random() * 1500),
      ...plan,
    });
  }
  return plans;
}
