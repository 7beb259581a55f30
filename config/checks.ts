/**
 * Semantic checks of a stack's configuration that zod's structural schema
 * cannot express: secrets stored as secrets, storage roots outside system
 * directories, limits within the hardware class. Each check reports through
 * `add` and never throws, so every problem is listed at once.
 */
import * as path from "node:path";
import { HARDWARE_CLASSES, HARDWARE_PROFILES, HardwareClass } from "./defaults";
import { AddProblem } from "./errors";
import { RawConfig } from "./model";
import { MEMORY_WITH_UNIT, REGISTRY_SERVER, REPOSITORY_PATH, RawServiceOverride, SECRET_KEYS, SecretKey } from "./schema";

// Directories whose contents belong to the OS or to Docker itself: mounting
// them into containers, or creating service folders in them, is never intended.
const SYSTEM_DIRS = ["/bin", "/boot", "/dev", "/etc", "/lib", "/lib64", "/proc", "/root", "/run", "/sbin", "/sys", "/usr", "/var/lib/docker", "/var/run"];
const SECRET_LOOKING_ENV = /(TOKEN|PASSWORD|PASSWD|SECRET|PRIVATE_KEY|API_KEY|CREDENTIAL)/i;
const SECRET_LOOKING_NAME = /(token|passw|secret|private_?key|api_?key|credential)/i;

/**
 * A field name under which a credential was probably pasted (`registrytoken`,
 * `password`): an unknown field of that name is reported without its value,
 * which may be the credential in plain text.
 */
export function looksLikeCredential(name: string): boolean {
    return SECRET_LOOKING_NAME.test(name);
}

export function checkSecrets(raw: RawConfig, add: AddProblem): void {
    const hint: Record<SecretKey, string> = {
        sshPrivateKey: "pulumi config set --secret sshPrivateKey < deploy_key",
        registryToken: "pulumi config set --secret registryToken <token>",
    };
    for (const key of SECRET_KEYS) {
        const value = raw.values[key];
        if (value === undefined || value === "") {
            add(key, `required; set it as a secret: \`${hint[key]}\``, undefined, false);
        } else if (!raw.secretKeys.has(key)) {
            // Never echo the value: it is exactly what must not be shown.
            add(key, `is stored in plain text in the stack file; remove it and set it as a secret: \`${hint[key]}\``, undefined, false);
        } else if (key === "sshPrivateKey" && typeof value === "string" && !/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(value)) {
            add(key, "must be a PEM/OpenSSH private key (-----BEGIN ... PRIVATE KEY-----)", undefined, false);
        }
    }
    // Structured config is stored as one blob: a secret nested in it would be
    // decrypted into plain objects, so credentials are only accepted at top level.
    const registry = raw.values.registry as Record<string, unknown> | undefined;
    for (const field of ["token", "password"]) {
        if (registry && typeof registry === "object" && registry[field] !== undefined) {
            add(`registry.${field}`, `credentials do not belong in the registry block; set them as a secret: \`${hint.registryToken}\``, undefined, false);
        }
    }
    const devices = raw.values.devices;
    if (Array.isArray(devices)) {
        devices.forEach((d, i) => {
            if (d && typeof d === "object" && (d as Record<string, unknown>).sshPrivateKey !== undefined) {
                add(`devices[${i}].sshPrivateKey`, `private keys do not belong in the device list; set the fleet's deploy key as a secret: \`${hint.sshPrivateKey}\``, undefined, false);
            }
        });
    }
}

export function isRepository(ref: string): boolean {
    if (ref.includes("@")) return false;
    const slash = ref.indexOf("/");
    if (slash > 0 && (ref.slice(0, slash).includes(".") || ref.slice(0, slash).includes(":") || ref.slice(0, slash) === "localhost")) {
        return REGISTRY_SERVER.test(ref.slice(0, slash)) && REPOSITORY_PATH.test(ref.slice(slash + 1));
    }
    return REPOSITORY_PATH.test(ref);
}

export function checkStorageRoot(p: PropertyKey[], root: string, add: AddProblem): void {
    if (!path.posix.isAbsolute(root)) {
        add(p, "must be an absolute path on the device, such as /srv/vv-video", root);
        return;
    }
    if (/[:,]/.test(root)) {
        // Docker's bind-mount syntax separates fields with ':' and options with ','.
        add(p, "must not contain ':' or ',', which Docker's bind mounts use as separators", root);
        return;
    }
    const normal = path.posix.normalize(root).replace(/\/+$/, "");
    if (normal === "" || root.split("/").includes("..") || normal !== root.replace(/\/+$/, "")) {
        add(p, `must be a normalised absolute path without '..' or '//' (did you mean ${JSON.stringify(normal || "/")}?)`, root);
        return;
    }
    const system = SYSTEM_DIRS.find((s) => normal === s || normal.startsWith(`${s}/`));
    if (system) add(p, `must not be inside ${system}, which belongs to the operating system or Docker`, root);
}

export function checkEnvironment(p: PropertyKey[], env: Record<string, unknown> | undefined, add: AddProblem): void {
    for (const key of Object.keys(env ?? {})) {
        if (SECRET_LOOKING_ENV.test(key)) {
            add([...p, key], "looks like a credential; environment in the stack file is plain text and visible in `docker inspect`", undefined, false);
        }
    }
}

/** The CPU and memory bounds a service override is held to, and how messages name them. */
export interface ClassBounds {
    readonly maxCpus: number;
    readonly maxMemoryMiB: number;
    /** "for this hardware class" */
    readonly memoryScope: string;
    /** "the CPUs of this hardware class" */
    readonly cpuScope: string;
}

/**
 * The bounds of the stack's hardware class. When the class itself is missing
 * or invalid (reported on its own), the largest bounds of any class stand in:
 * a limit is then reported only when no class could take it, never because of
 * a guess at which class was meant.
 */
export function classBounds(hardwareClass: HardwareClass | undefined): ClassBounds {
    if (hardwareClass !== undefined) {
        const p = HARDWARE_PROFILES[hardwareClass];
        return { maxCpus: p.maxCpus, maxMemoryMiB: p.maxMemoryMiB, memoryScope: "for this hardware class", cpuScope: "the CPUs of this hardware class" };
    }
    const all = HARDWARE_CLASSES.map((c) => HARDWARE_PROFILES[c]);
    return {
        maxCpus: Math.max(...all.map((p) => p.maxCpus)),
        maxMemoryMiB: Math.max(...all.map((p) => p.maxMemoryMiB)),
        memoryScope: "for any hardware class",
        cpuScope: "the most CPUs of any hardware class",
    };
}

export function checkOverride(p: PropertyKey[], o: RawServiceOverride, bounds: ClassBounds, add: AddProblem): void {
    checkEnvironment([...p, "environment"], o.environment, add);
    const hc = o.healthcheck;
    if (hc?.timeoutSeconds !== undefined && hc.intervalSeconds !== undefined && hc.timeoutSeconds > hc.intervalSeconds) {
        add([...p, "healthcheck", "timeoutSeconds"], `must not exceed intervalSeconds (${hc.intervalSeconds})`, hc.timeoutSeconds);
    }
    if (o.memoryMiB !== undefined && o.memory !== undefined) {
        add([...p, "memory"], "set either memoryMiB or memory, not both", o.memory);
    }
    if (o.memoryMiB !== undefined) {
        const m = o.memoryMiB;
        if (typeof m !== "number" || !Number.isInteger(m)) {
            add([...p, "memoryMiB"], "must be a whole number of MiB such as 512 (or use memory: \"512m\")", m);
        } else if (m < 6 || m > bounds.maxMemoryMiB) {
            add([...p, "memoryMiB"], `must be between 6 (Docker's minimum) and ${bounds.maxMemoryMiB} MiB ${bounds.memoryScope}`, m);
        }
    }
    if (o.memory !== undefined) {
        const mib = parseMemory(o.memory);
        if (mib === undefined) {
            add([...p, "memory"], "must be a size with a unit such as 512m or 2g (b, k, m, g)", o.memory);
        } else if (mib < 6 || mib > bounds.maxMemoryMiB) {
            add([...p, "memory"], `must be between 6m and ${bounds.maxMemoryMiB}m ${bounds.memoryScope}`, o.memory);
        } else if (!Number.isInteger(mib)) {
            add([...p, "memory"], "must be a whole number of MiB", o.memory);
        }
    }
    if (o.cpus !== undefined) {
        const c = cpusOf(o);
        if (c === undefined || !Number.isFinite(c)) {
            add([...p, "cpus"], "must be a number of CPUs such as 0.5 or 1.5", o.cpus);
        } else if (c <= 0 || c > bounds.maxCpus) {
            add([...p, "cpus"], `must be more than 0 and at most ${bounds.maxCpus}, ${bounds.cpuScope}`, o.cpus);
        } else if (Math.abs(Math.round(c * 100) - c * 100) > 1e-9) {
            add([...p, "cpus"], "must be a multiple of 0.01", o.cpus);
        }
    }
}

/** MiB from a compose-style size; undefined when unit-less or malformed. */
export function parseMemory(value: unknown): number | undefined {
    if (typeof value !== "string") return undefined;
    const m = MEMORY_WITH_UNIT.exec(value.trim());
    if (!m) return undefined;
    const n = Number(m[1]);
    const unit = m[3]!.toLowerCase();
    const factor = { b: 1 / (1024 * 1024), k: 1 / 1024, m: 1, g: 1024 }[unit as "b" | "k" | "m" | "g"];
    return n * factor;
}

export function memoryOf(o: RawServiceOverride): number | undefined {
    if (typeof o.memoryMiB === "number") return o.memoryMiB;
    return parseMemory(o.memory);
}

export function cpusOf(o: RawServiceOverride): number | undefined {
    if (o.cpus === undefined) return undefined;
    if (typeof o.cpus === "number") return o.cpus;
    const trimmed = o.cpus.trim();
    return /^\d+(\.\d+)?$/.test(trimmed) ? Number(trimmed) : NaN;
}
