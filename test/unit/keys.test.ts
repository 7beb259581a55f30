import { describe, expect, it } from "vitest";
import { bareKey, projectKey, projectValues } from "../../config/keys";

describe("config keys", () => {
    it("adds and strips the project prefix, and only that project's", () => {
        expect(projectKey("devices")).toBe("edge-fleet:devices");
        expect(bareKey("edge-fleet:devices")).toBe("devices");
        expect(bareKey("docker:host")).toBeUndefined();
        expect(bareKey("other:devices", "other")).toBe("devices");
        expect(projectValues({ "edge-fleet:hardwareClass": "cpu", "docker:host": "x" })).toEqual({ hardwareClass: "cpu" });
    });
});
