/**
 * The scenarios `npm run bench` runs, in this order (EDGE_FLEET_BENCH_SCENARIOS
 * picks some by id). A new scenario is a module in this directory exporting a
 * Scenario (lib/scenario.ts), added here.
 */
import { Scenario } from "../lib/scenario";
import { deployVsCompose, deployVsComposeCurrentEngine } from "./deploy-vs-compose";
import { fleetScaleScenario } from "./fleet-scale";
import { rolloutScenario } from "./rollout";

export const SCENARIOS: readonly Scenario[] = [deployVsCompose, deployVsComposeCurrentEngine, rolloutScenario, fleetScaleScenario];
