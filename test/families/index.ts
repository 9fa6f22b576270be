// The incident family generator: generateIncident(seed) renders a complete context bundle v1 and
// its label (expected.json in the shared scenario format, plus family / latent_defect / change
// event triggers). Deterministic per seed. Test data only: nothing under src/ may import it.
import { type Expected, labelFor, type Outcome } from './common.js';
import { codeDeploy, dependencyBump, featureFlag, latentDefect, serviceConfig, sharedConfig } from './families1.js';
import { cascade, delayedOnset, infraChange, migration, partialDeploy } from './families2.js';
import { certExpiry, diskFull, operatorAction, providerOutage, trafficSurge } from './families3.js';
import { hash32, Rng } from './prng.js';
import { Scene } from './scene.js';

export type { Expected } from './common.js';

type Recipe = (s: Scene) => Outcome;

export const FAMILIES: Record<string, Recipe> = {
  'code-deploy': codeDeploy,
  'service-config': serviceConfig,
  'shared-config': sharedConfig,
  'feature-flag': featureFlag,
  'latent-defect': latentDefect,
  'dependency-bump': dependencyBump,
  migration,
  'infra-change': infraChange,
  'partial-deploy': partialDeploy,
  'delayed-onset': delayedOnset,
  cascade,
  'no-change/provider-outage': providerOutage,
  'no-change/traffic-surge': trafficSurge,
  'no-change/cert-expiry': certExpiry,
  'no-change/disk-full': diskFull,
  'no-change/operator-action': operatorAction,
};

export const FAMILY_NAMES = Object.keys(FAMILIES);

/** families whose label is trigger: null */
export const NO_CHANGE_FAMILIES = new Set(FAMILY_NAMES.filter((f) => f.startsWith('no-change/')));

/** Seed ranges. Tune only on DEV; HELD_OUT is for reporting and is never looked at while tuning. */
export const DEV_SEEDS = { from: 1, to: 320 } as const;
export const HELD_OUT_SEEDS = { from: 900_001, to: 900_320 } as const;

export interface GeneratedIncident {
  seed: number;
  family: string;
  bundle: Record<string, unknown>;
  expected: Expected;
}

export function familyOfSeed(seed: number): string {
  return FAMILY_NAMES[seed % FAMILY_NAMES.length]!;
}

export function generateIncident(seed: number, family: string = familyOfSeed(seed)): GeneratedIncident {
  const recipe = FAMILIES[family];
  if (!recipe) throw new Error(`unknown family ${family} (known: ${FAMILY_NAMES.join(', ')})`);
  const rng = new Rng(hash32(`${family}:${seed}`));
  const scene = new Scene(rng);
  const outcome = recipe(scene);
  const bundle = scene.finish();
  const expected = labelFor(scene, family, outcome, outcome.timelineDeploys ?? []);
  return { seed, family, bundle, expected };
}
