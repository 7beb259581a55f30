import { defineConfig } from "vitest/config";

export default defineConfig({
    test: {
        projects: [
            {
                test: {
                    name: "unit",
                    include: ["test/unit/**/*.test.ts"],
                    // Each stack test imports the program afresh under its own mocks.
                    isolate: true,
                    testTimeout: 30_000,
                    // Mocked stacks name devices that do not exist: no ssh master is opened for them.
                    env: { EDGE_FLEET_SSH_MULTIPLEX: "off" },
                },
            },
            {
                test: {
                    name: "e2e",
                    include: ["test/e2e/**/*.test.ts"],
                    // Real deploys. Each file has its own stack and its own simulated
                    // devices (scripts/test.sh lists them), so two files run at once:
                    // most of their time is waiting for healthchecks, and one file at a
                    // time took about an hour. Two, not more: the machine CI runs on has
                    // two cores, and the engine, the providers and the devices' daemons
                    // of both files share them.
                    maxWorkers: 2,
                    testTimeout: 20 * 60_000,
                    hookTimeout: 20 * 60_000,
                },
            },
        ],
    },
});
