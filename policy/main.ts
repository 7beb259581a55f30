/**
 * The policy pack `edge-fleet`, served to the engine by policy/analyzer.
 * Constructing the PolicyPack starts @pulumi/policy's analyzer server, which
 * prints its port for the engine to connect to.
 */
import { PolicyPack } from "@pulumi/policy";
import { onStackConfigured } from "./engineConfig";
import { RULE_NAMES, applyLevels, rules } from "./rules";
import { EMPTY_SETTINGS, PolicySettings, settingsFromConfig } from "./settings";

let current: PolicySettings = EMPTY_SETTINGS;
const all = rules({ settings: () => current });
applyLevels(all, current);

onStackConfigured((stack, config) => {
    current = settingsFromConfig(stack, config, RULE_NAMES);
    applyLevels(all, current);
});

new PolicyPack("edge-fleet", {
    description: "The fleet's rules for containers on edge devices: privileges, the Docker socket, limits, health, restarts, logs, images, ports and host keys.",
    policies: all,
});
