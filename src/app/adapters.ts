import type { ChatAdapter } from '../ports/chat-adapter';
import type { Recipient } from '../ports/store';

/** adapterNamespace: where an adapter's own keys live in the store (AdapterContext.kv, DeliveryOutcome.remember). */
export function adapterNamespace(adapter: string): string {
  return `adapter:${adapter}`;
}

/**
 * AdapterRegistry is responsible for knowing which chat adapters run in this process and which of
 * them can reach a recipient. It is filled by the composition root before start.
 */
export class AdapterRegistry {
  private readonly adapters = new Map<string, ChatAdapter>();

  add(adapter: ChatAdapter): void {
    if (this.adapters.has(adapter.name)) throw new Error(`two chat adapters are named "${adapter.name}"`);
    this.adapters.set(adapter.name, adapter);
  }
  get(name: string): ChatAdapter | undefined {
    return this.adapters.get(name);
  }
  all(): ChatAdapter[] {
    return [...this.adapters.values()];
  }
  /** reaching: the adapters a delivery to `recipient` goes through (a guest: only their own). */
  reaching(recipient: Recipient): ChatAdapter[] {
    if (recipient.kind === 'guest') {
      const own = this.adapters.get(recipient.adapter);
      return own && own.canReach(recipient) ? [own] : [];
    }
    return this.all().filter((a) => a.canReach(recipient));
  }
}
