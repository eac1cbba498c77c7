/**
 * Whether a Redis keeps what it has acknowledged: the outbox tells an applicant "received" once
 * Redis has answered its write, so that answer must mean "on disk". With `appendonly yes` and
 * `appendfsync always`, Redis writes and fsyncs the append-only file before it replies; with
 * `everysec` up to a second of accepted applications can vanish in a power cut, and without
 * AOF a restart loses everything not yet mailed. An eviction policy over all keys would drop
 * applications when memory is full. Read by `npm run doctor` and at start-up (runtime.ts).
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';

export interface Durability {
  /** `unknown`: the server does not show its settings (CONFIG refused, as managed services do). */
  verdict: 'durable' | 'not_durable' | 'unknown';
  /** One line per finding, saying what to change. */
  findings: string[];
}

/** What deploy/redis.conf sets, and what to type on a running server. */
const FIX = 'set appendonly yes and appendfsync always (deploy/redis.conf), or on the running server: CONFIG SET appendonly yes, CONFIG SET appendfsync always, CONFIG REWRITE';

const pair = z.tuple([z.string(), z.string()]);

async function setting(client: Redis, name: string): Promise<string> {
  return pair.parse(await client.call('CONFIG', 'GET', name))[1];
}

/** Reads CONFIG GET appendonly / appendfsync / maxmemory-policy, or INFO persistence if CONFIG is refused. */
export async function checkDurability(client: Redis): Promise<Durability> {
  let appendonly: string;
  let appendfsync: string;
  let policy: string;
  try {
    [appendonly, appendfsync, policy] = [await setting(client, 'appendonly'), await setting(client, 'appendfsync'), await setting(client, 'maxmemory-policy')];
  } catch {
    const info = z.string().max(100_000).parse(await client.call('INFO', 'persistence'));
    const aof = /^aof_enabled:(\d)/m.exec(info)?.[1];
    if (aof === '0') return { verdict: 'not_durable', findings: [`append-only file off (INFO persistence: aof_enabled:0): a restart loses every application not yet mailed; ${FIX}`] };
    return {
      verdict: 'unknown',
      findings: [`CONFIG GET refused${aof === '1' ? ' (INFO says aof_enabled:1)' : ''}: check that appendfsync is always and maxmemory-policy is noeviction (a managed service such as Upstash keeps its own persistence)`],
    };
  }
  const findings: string[] = [];
  if (appendonly !== 'yes') findings.push(`appendonly is ${appendonly}: a restart loses every application not yet mailed; ${FIX}`);
  else if (appendfsync !== 'always') findings.push(`appendfsync is ${appendfsync}: a power cut can lose applications already answered "received"; ${FIX}`);
  if (policy.startsWith('allkeys-')) findings.push(`maxmemory-policy is ${policy}: a full Redis would evict applications; set maxmemory-policy noeviction`);
  return { verdict: findings.length === 0 ? 'durable' : 'not_durable', findings };
}
