import { isWildcardGrantable } from '../catalog/grants';
import { catalog, operationKey } from '../catalog/index';
import { type AccessConfig, identityKey, type PartnerConfig } from '../config/access';

/** A partner with its grants resolved against the catalog. */
export interface Partner {
  readonly id: string;
  readonly config: PartnerConfig;
  /** Exactly the operations it may call, after wildcards and read-only are applied. */
  readonly operations: ReadonlySet<string>;
  /** Its Ioto accounts, compared exactly. */
  readonly accounts: ReadonlySet<string>;
  /** The automated actions it may run with action/invoke, by exact name. */
  readonly actions: ReadonlySet<string>;
}

/** Resolves a partner's grants: exact names, plus wildcards, minus writes when read-only. */
export function grantedOperations(partner: PartnerConfig): Set<string> {
  const exact = new Set(partner.operations);
  const wildcards = new Set(
    partner.operations.filter((g) => g.endsWith('/*')).map((g) => g.slice(0, -2)),
  );
  const granted = catalog.filter(
    (op) =>
      exact.has(operationKey(op)) || (wildcards.has(op.controller) && isWildcardGrantable(op)),
  );
  return new Set(granted.filter((op) => !(partner.readOnly && op.mutates)).map(operationKey));
}

/** Claims of a verified access token that identify its holder. */
export interface TokenIdentity {
  readonly iss: string;
  readonly clientId?: string;
  readonly sub?: string;
}

/**
 * The partners of an access configuration, found by id or by token identity. A function
 * {@link PartnerDirectory.reload}s it when the access configuration changes; a lookup sees
 * either the old partners or the new ones, never a mix.
 */
export class PartnerDirectory {
  #current: {
    readonly config: AccessConfig;
    readonly byId: ReadonlyMap<string, Partner>;
    readonly byIdentity: ReadonlyMap<string, Partner>;
  };

  constructor(config: AccessConfig) {
    this.#current = PartnerDirectory.#index(config);
  }

  /** The access configuration the partners come from. */
  get config(): AccessConfig {
    return this.#current.config;
  }

  /** Takes the partners of `config` instead (nothing happens when it is the same object). */
  reload(config: AccessConfig): void {
    if (config !== this.#current.config) this.#current = PartnerDirectory.#index(config);
  }

  static #index(config: AccessConfig) {
    const byId = new Map<string, Partner>();
    const byIdentity = new Map<string, Partner>();
    for (const partnerConfig of config.partners) {
      const partner: Partner = Object.freeze({
        id: partnerConfig.id,
        config: partnerConfig,
        operations: grantedOperations(partnerConfig),
        accounts: new Set(partnerConfig.accounts),
        actions: new Set(partnerConfig.actions ?? []),
      });
      byId.set(partner.id, partner);
      byIdentity.set(identityKey(partnerConfig.identity), partner);
    }
    return { config, byId, byIdentity };
  }

  byId(id: string): Partner | undefined {
    return this.#current.byId.get(id);
  }

  /** Machine clients are matched by `client_id` first, then by `sub`. */
  byToken(identity: TokenIdentity): Partner | undefined {
    const { iss, clientId, sub } = identity;
    const { byIdentity } = this.#current;
    return (
      (clientId === undefined
        ? undefined
        : byIdentity.get(identityKey({ issuer: iss, clientId }))) ??
      (sub === undefined ? undefined : byIdentity.get(identityKey({ issuer: iss, subject: sub })))
    );
  }
}
