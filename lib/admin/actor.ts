/** Who is acting, for the audit log: a signed-in admin, an API key, the CLI, or the system. */
export interface Actor {
  id: string | null;
  label: string;
  clientIp: string | null;
}

export const cliActor: Actor = { id: null, label: 'cli', clientIp: null };
