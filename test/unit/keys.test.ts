import { describe, expect, it } from "vitest";
import { bareKey, decodeConfigValue, projectKey, projectValues } from "../../config/keys";

describe("config keys", () => {
    it("adds and strips the project prefix, and only that project's", () => {
        expect(projectKey("devices")).toBe("edge-fleet:devices");
        expect(bareKey("edge-fleet:devices")).toBe("devices");
        expect(bareKey("docker:host")).toBeUndefined();
        expect(bareKey("other:devices", "other")).toBe("devices");
        expect(projectValues({ "edge-fleet:hardwareClass": "cpu", "docker:host": "x" })).toEqual({ hardwareClass: "cpu" });
    });

    it("decodes values as Pulumi stores them: numbers and booleans as text, structures as JSON", () => {
        expect(decodeConfigValue("1")).toBe(1);
        expect(decodeConfigValue("-2.5")).toBe(-2.5);
        expect(decodeConfigValue("true")).toBe(true);
        expect(decodeConfigValue('{"tag":"1.0.0"}')).toEqual({ tag: "1.0.0" });
        expect(decodeConfigValue("[1,2]")).toEqual([1, 2]);
        expect(decodeConfigValue("cpu")).toBe("cpu");
        expect(decodeConfigValue("{not json")).toBe("{not json");
        expect(decodeConfigValue(3)).toBe(3);
        expect(decodeConfigValue({ secure: "v1:x" })).toEqual({ secure: "v1:x" });
    });
});
