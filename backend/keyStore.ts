/**
 * Where this tool keeps what it writes beside the Pulumi state (rollout
 * records, each device's last good settings): small text values under
 * slash-separated keys, with the same keys whichever backend holds them, so
 * that anyone who can read the stack's state can read its history too.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export interface KeyStore {
    /** Where the values live, for messages; never carries a password. */
    readonly where: string;
    /** False when the values stay on this machine (the backend is not one this tool can write beside). */
    readonly shared: boolean;
    get(key: string): Promise<string | undefined>;
    /** Replaces the value whole: a reader never sees half of it. */
    put(key: string, value: string): Promise<void>;
    /** The keys that start with `prefix`, sorted. */
    list(prefix: string): Promise<string[]>;
    close(): Promise<void>;
}

/** Keys as files under a directory: the file backend's own directory, or this machine's cache. */
export class FileKeyStore implements KeyStore {
    constructor(
        private readonly dir: string,
        readonly shared: boolean,
    ) {}

    get where(): string {
        return this.dir;
    }

    async get(key: string): Promise<string | undefined> {
        try {
            return await fs.promises.readFile(this.file(key), "utf8");
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
            throw e;
        }
    }

    async put(key: string, value: string): Promise<void> {
        const file = this.file(key);
        await fs.promises.mkdir(path.dirname(file), { recursive: true });
        // Write then rename: a reader, or a run killed mid-write, never sees half a value.
        const tmp = `${file}.${process.pid}.tmp`;
        await fs.promises.writeFile(tmp, value);
        await fs.promises.rename(tmp, file);
    }

    async list(prefix: string): Promise<string[]> {
        const slash = prefix.lastIndexOf("/");
        const dirKey = slash >= 0 ? prefix.slice(0, slash + 1) : "";
        let entries: fs.Dirent[];
        try {
            entries = await fs.promises.readdir(this.file(dirKey), { withFileTypes: true });
        } catch (e) {
            if ((e as NodeJS.ErrnoException).code === "ENOENT") return [];
            throw e;
        }
        return entries
            .filter((e) => e.isFile() && !e.name.endsWith(".tmp"))
            .map((e) => dirKey + e.name)
            .filter((k) => k.startsWith(prefix))
            .sort();
    }

    async close(): Promise<void> {}

    private file(key: string): string {
        if (key.split("/").some((part) => part === "..")) throw new Error(`invalid key ${JSON.stringify(key)}`);
        return path.join(this.dir, ...key.split("/"));
    }
}
