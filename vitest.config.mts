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
                    // Real deploys: one device, one stack state, so files run one at a time.
                    fileParallelism: false,
                    testTimeout: 20 * 60_000,
                    hookTimeout: 20 * 60_000,
                },
            },
        ],
    },
});
