/**
 * The workflows' logic (scripts/ci): which stacks a change affects, and the
 * one comment per stack found again by its marker and updated in place.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { affectedStacks, repositoryStacks } from "../../scripts/ci/affected";
import { MAX_BODY, commentBody, marker, upsertComment } from "../../scripts/ci/comment";

const STACKS = ["edge-jetson", "edge-x86"];

describe("affected stacks", () => {
    it("the repository's stacks are its stack files, without the simulated local one", () => {
        expect(repositoryStacks(fs.readdirSync(path.resolve(__dirname, "..", "..")))).toEqual(["edge-jetson", "edge-x86"]);
    });

    it("a stack file affects its own stack only", () => {
        expect(affectedStacks(["Pulumi.edge-x86.yaml", "README.md"], STACKS)).toEqual(["edge-x86"]);
    });

    it("the program, its dependencies or the project file affect every stack", () => {
        for (const f of ["index.ts", "components/serviceContainer.ts", "config/defaults.ts", "plan/order.ts", "package-lock.json", "Pulumi.yaml"]) {
            expect(affectedStacks([f], STACKS), f).toEqual(STACKS);
        }
    });

    it("documentation, tests, the local stack and the simulation affect none", () => {
        expect(affectedStacks(["README.md", "test/unit/keys.test.ts", "Pulumi.local.yaml", "sim/device.sh", ".github/workflows/preview.yml"], STACKS)).toEqual([]);
    });
});

interface Call {
    method: string;
    url: string;
    body?: { body: string };
}

/** A GitHub that holds these comments and records what it was asked. */
function fakeGitHub(comments: { id: number; body: string }[]) {
    const calls: Call[] = [];
    const f = (url: string, init: { method: string; body?: string }) => {
        calls.push({ method: init.method, url, ...(init.body ? { body: JSON.parse(init.body) as { body: string } } : {}) });
        const page = Number(new URL(url).searchParams.get("page") ?? 1);
        const answer = init.method === "GET" ? comments.slice((page - 1) * 100, page * 100) : { id: 999 };
        return Promise.resolve({ ok: true, status: 200, json: () => Promise.resolve(answer), text: () => Promise.resolve("") });
    };
    return { f, calls };
}

const target = { api: "https://api.github.test", repository: "org/edge-fleet", pullRequest: 7, token: "t" };

describe("pull-request comment per stack", () => {
    it("is created when the pull request has none for the stack", async () => {
        const gh = fakeGitHub([{ id: 1, body: `${marker("edge-x86")}\nother stack` }, { id: 2, body: "a person's comment" }]);
        expect(await upsertComment(gh.f, target, "edge-jetson", "### Preview\n")).toEqual({ action: "created", id: 999 });
        expect(gh.calls.map((c) => `${c.method} ${c.url}`)).toEqual([
            "GET https://api.github.test/repos/org/edge-fleet/issues/7/comments?per_page=100&page=1",
            "POST https://api.github.test/repos/org/edge-fleet/issues/7/comments",
        ]);
        expect(gh.calls[1]!.body!.body).toBe("<!-- edge-fleet-preview stack=edge-jetson -->\n### Preview\n");
    });

    it("is updated in place when its marker is found, on a later page too", async () => {
        const many = Array.from({ length: 100 }, (_, i) => ({ id: i + 1, body: "chatter" }));
        const gh = fakeGitHub([...many, { id: 4242, body: `${marker("edge-jetson")}\nold` }]);
        expect(await upsertComment(gh.f, target, "edge-jetson", "new")).toEqual({ action: "updated", id: 4242 });
        expect(gh.calls.map((c) => `${c.method} ${c.url.replace(target.api, "")}`)).toEqual([
            "GET /repos/org/edge-fleet/issues/7/comments?per_page=100&page=1",
            "GET /repos/org/edge-fleet/issues/7/comments?per_page=100&page=2",
            "PATCH /repos/org/edge-fleet/issues/comments/4242",
        ]);
    });

    it("a report too long for a comment is cut at a line, with a pointer to the log", () => {
        const body = commentBody("edge-x86", "line\n".repeat(20_000));
        expect(body.length).toBeLessThanOrEqual(MAX_BODY);
        expect(body.endsWith("line\n\n… cut here: the full preview is in the check's log.\n")).toBe(true);
    });

    it("a failed call names the route and status", async () => {
        const f = () => Promise.resolve({ ok: false, status: 403, json: () => Promise.resolve({}), text: () => Promise.resolve("Resource not accessible by integration") });
        await expect(upsertComment(f, target, "edge-x86", "x")).rejects.toThrow("GitHub GET /repos/org/edge-fleet/issues/7/comments?per_page=100&page=1: 403 Resource not accessible by integration");
    });
});
