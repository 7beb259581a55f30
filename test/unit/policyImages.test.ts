import { describe, expect, it } from "vitest";
import { imageDigests, imageRegistry } from "../../policy/rules/images";
import { fixedContext } from "../../policy/settings";
import { SETTINGS, container, violations } from "./policyHarness";

const registry = imageRegistry(fixedContext(SETTINGS));
const pull = (name: string) => ({ type: "docker:index/remoteImage:RemoteImage", name: "dev-1-tv_api-image", props: { name, keepLocally: true } });
const DIGEST = `sha256:${"0a".repeat(32)}`;

describe("images-from-stack-registry", () => {
    it("passes images of the stack's registry and namespace, by tag or digest", async () => {
        expect(await violations(registry, container())).toEqual([]);
        expect(await violations(registry, pull(`10.77.0.1:5000/vv-video-ai/tv_api@${DIGEST}`))).toEqual([]);
    });
    it("refuses another registry, another namespace or a nested path", async () => {
        expect(await violations(registry, pull("docker.io/library/nginx:latest"))).toEqual([
            "the image pull dev-1-tv_api-image uses docker.io/library/nginx:latest, which is not an image of 10.77.0.1:5000/vv-video-ai",
        ]);
        expect(await violations(registry, container({ image: "10.77.0.1:5000/other/tv_api:1.0.0" }))).toHaveLength(1);
        expect(await violations(registry, pull("10.77.0.1:5000/vv-video-ai/x/tv_api:1"))).toHaveLength(1);
        // A server whose name merely starts like the registry's.
        expect(await violations(registry, pull("10.77.0.1:50000/vv-video-ai/tv_api:1"))).toHaveLength(1);
    });
    it("does not judge resources other than pulls and containers", async () => {
        expect(await violations(registry, { type: "docker:index/network:Network", props: { name: "docker.io/x" } })).toEqual([]);
    });
});

describe("images-pinned-by-digest", () => {
    it("passes a reference pinned by digest", async () => {
        expect(await violations(imageDigests, container({ image: `10.77.0.1:5000/vv-video-ai/tv_api@${DIGEST}` }))).toEqual([]);
    });
    it("reports a tag once per container, not again for its pull", async () => {
        expect(await violations(imageDigests, pull("10.77.0.1:5000/vv-video-ai/tv_api:1.0.0"))).toEqual([]);
        expect(await violations(imageDigests, container())).toEqual([
            "tv_api on dev-1 uses 10.77.0.1:5000/vv-video-ai/tv_api:1.0.0, a tag that can move; pin it by digest",
        ]);
    });
});
