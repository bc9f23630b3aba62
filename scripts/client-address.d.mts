// Types for scripts/client-address.mjs (plain ESM shared by the entry server and the
// configuration check, lib/config/schema.ts).

export type TrustedProxies = { kind: 'none' } | { kind: 'hops'; hops: number } | { kind: 'addresses'; addresses: Set<string> };

export declare function parseTrustedProxies(value: string | undefined): TrustedProxies;
export declare function normalizeAddress(address: string | undefined): string;
export declare function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: TrustedProxies): string;
export declare const forwardingHeaders: readonly string[];
export declare function peerIsTrustedProxy(peer: string | undefined, trusted: TrustedProxies): boolean;
export declare function dropUntrustedForwarding(headers: Record<string, unknown>, peer: string | undefined, trusted: TrustedProxies): string[];
