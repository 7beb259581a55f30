/**
 * Client-visible downtime of tv_api: polls `GET /status` on a device every
 * 100 ms while an operation runs and reports the longest stretch without a
 * 200 (connection refused, timeout or an error status all count as down).
 */
export interface DowntimeProbe {
    /** Stops polling; the longest outage in seconds (0 when it never failed). */
    stop(): Promise<number>;
}

export function probeDowntime(url: string): DowntimeProbe {
    let running = true;
    let downSince: number | undefined;
    let longest = 0;
    const loop = (async () => {
        while (running) {
            const t = performance.now();
            let ok: boolean;
            try {
                ok = (await fetch(url, { signal: AbortSignal.timeout(500) })).status === 200;
            } catch {
                ok = false;
            }
            if (!ok && downSince === undefined) downSince = t;
            if (ok && downSince !== undefined) {
                longest = Math.max(longest, (t - downSince) / 1000);
                downSince = undefined;
            }
            await new Promise((r) => setTimeout(r, Math.max(0, 100 - (performance.now() - t))));
        }
    })();
    return {
        async stop() {
            running = false;
            await loop;
            if (downSince !== undefined) longest = Math.max(longest, (performance.now() - downSince) / 1000);
            return Math.round(longest * 10) / 10;
        },
    };
}
