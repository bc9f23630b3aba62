import type { Generated } from 'kysely';

/**
 * Row shapes as stored. Portable across SQLite and PostgreSQL: times are integer
 * milliseconds since the epoch, booleans are 0/1 integers, lists are JSON text.
 */
export type UserState = 'staged' | 'active' | 'suspended';
export type UserRole = 'user' | 'admin';

export interface UsersTable {
  id: string;
  username: string;
  username_lower: string;
  email: string | null;
  display_name: string | null;
  password_hash: string | null;
  state: UserState;
  role: UserRole;
  created_at: number;
  activated_at: number | null;
}

export interface GroupsTable {
  id: string;
  name: string;
  name_lower: string;
  created_at: number;
}

export interface GroupMembersTable {
  group_id: string;
  user_id: string;
}

export interface SessionsTable {
  /** sha256(token) in hex: the token itself never reaches the database. */
  id: string;
  user_id: string;
  created_at: number;
  last_seen_at: number;
  idle_expires_at: number;
  absolute_expires_at: number;
  /** 1 = password, 2 = password and a second factor. */
  aal: number;
  /** Authentication methods completed, JSON array: ["pwd","totp"]. */
  amr: string;
  /** The user chose "Skip for now" in this session (R-D5); never carried to the next. */
  mfa_skipped: number;
  /** When the last second factor was passed; fresh checks (factor removal) read it. */
  second_factor_at: number | null;
  client_ip: string | null;
  user_agent: string | null;
}

export interface AuditLogTable {
  id: Generated<number>;
  at: number;
  actor_id: string | null;
  actor_label: string;
  action: string;
  target_type: string | null;
  target_id: string | null;
  details: string | null;
  client_ip: string | null;
}

export interface ApiKeysTable {
  id: string;
  name: string;
  /** sha256 of the whole key; keys have 256 bits, so a fast hash is enough. */
  key_hash: string;
  prefix: string;
  role: 'admin' | 'read';
  created_at: number;
  created_by: string | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

export interface AuthThrottleTable {
  /** "user:<username_lower>" or "ip:<address>". */
  key: string;
  failures: number;
  window_started_at: number;
  blocked_until: number;
}

export interface Database {
  users: UsersTable;
  groups: GroupsTable;
  group_members: GroupMembersTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  api_keys: ApiKeysTable;
  auth_throttle: AuthThrottleTable;
}
