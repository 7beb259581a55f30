/**
 * One pull-request comment per stack, found again by a hidden marker and
 * updated in place, through GitHub's REST API. The body is pure; the calls
 * take a `fetch` so that tests can answer them.
 */
export const MAX_BODY = 65_000; // GitHub refuses comments over 65,536 characters.

export const marker = (stack: string) => `<!-- edge-fleet-preview stack=${stack} -->`;

export function commentBody(stack: string, markdown: string): string {
    const head = `${marker(stack)}\n`;
    const note = "\n\n… cut here: the full preview is in the check's log.\n";
    const room = MAX_BODY - head.length - note.length;
    return markdown.length <= room ? `${head}${markdown}` : `${head}${markdown.slice(0, markdown.lastIndexOf("\n", room))}${note}`;
}

export interface GitHubTarget {
    readonly api: string;
    readonly repository: string;
    readonly pullRequest: number;
    readonly token: string;
}

type Fetch = (url: string, init: { method: string; headers: Record<string, string>; body?: string }) => Promise<{ ok: boolean; status: number; json(): Promise<unknown>; text(): Promise<string> }>;

async function call(f: Fetch, t: GitHubTarget, method: string, route: string, body?: unknown): Promise<unknown> {
    const res = await f(`${t.api}${route}`, {
        method,
        headers: { accept: "application/vnd.github+json", authorization: `Bearer ${t.token}`, "x-github-api-version": "2022-11-28", "content-type": "application/json" },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok) throw new Error(`GitHub ${method} ${route}: ${res.status} ${(await res.text()).slice(0, 200)}`);
    return res.json();
}

/** Creates the stack's comment, or updates the one that carries its marker. Returns what was done. */
export async function upsertComment(f: Fetch, t: GitHubTarget, stack: string, markdown: string): Promise<{ action: "created" | "updated"; id: number }> {
    const body = commentBody(stack, markdown);
    for (let page = 1; ; page += 1) {
        const comments = (await call(f, t, "GET", `/repos/${t.repository}/issues/${t.pullRequest}/comments?per_page=100&page=${page}`)) as { id: number; body?: string }[];
        const own = comments.find((c) => c.body?.startsWith(marker(stack)));
        if (own) {
            await call(f, t, "PATCH", `/repos/${t.repository}/issues/comments/${own.id}`, { body });
            return { action: "updated", id: own.id };
        }
        if (comments.length < 100) break;
    }
    const created = (await call(f, t, "POST", `/repos/${t.repository}/issues/${t.pullRequest}/comments`, { body })) as { id: number };
    return { action: "created", id: created.id };
}
