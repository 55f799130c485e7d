export const ROLES = ['admin', 'editor', 'reviewer', 'learner'] as const;
export type Role = (typeof ROLES)[number];

/** What a request may do. Anonymous readers see live content only. */
export type Permission = 'read:drafts' | 'write:pages' | 'write:media' | 'manage:tokens' | 'run:code';

const GRANTS: Record<Role, readonly Permission[]> = {
  admin: ['read:drafts', 'write:pages', 'write:media', 'manage:tokens', 'run:code'],
  editor: ['read:drafts', 'write:pages', 'write:media', 'run:code'],
  // Reviewers read drafts and history and write nothing.
  reviewer: ['read:drafts', 'run:code'],
  // Learners read live lessons (as anyone) and run their code cells.
  learner: ['run:code'],
};

export const isRole = (v: unknown): v is Role => typeof v === 'string' && (ROLES as readonly string[]).includes(v);

export function can(role: Role, permission: Permission): boolean {
  return GRANTS[role].includes(permission);
}

/** Words for error messages: "the reviewer role may not write pages". */
export const PERMISSION_VERBS: Record<Permission, string> = {
  'read:drafts': 'read drafts and history',
  'write:pages': 'write pages',
  'write:media': 'upload or delete images and documents',
  'manage:tokens': 'manage tokens',
  'run:code': 'run code',
};
